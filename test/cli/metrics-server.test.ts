import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { test } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { AuditErrorCode } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { metricsFromSettings, serveMetrics } from '../../cli/metrics-server.js';
import { metricValue, parseMetrics } from '../metrics-text.js';

const logger = silentLogger();

test('without AUDIT_METRICS_PORT nothing listens', async () => {
  assert.equal(await metricsFromSettings({}, logger), undefined);
  assert.equal(await metricsFromSettings({ AUDIT_METRICS_HOST: '0.0.0.0' }, logger), undefined);
});

test('a bad AUDIT_METRICS_PORT is refused, naming the setting', async () => {
  for (const bad of ['http', '-1', '65536', '80.5'])
    await assert.rejects(metricsFromSettings({ AUDIT_METRICS_PORT: bad }, logger), {
      code: AuditErrorCode.InvalidOption,
      field: 'AUDIT_METRICS_PORT',
    });
});

test('a port already taken is refused, naming the setting', async (t) => {
  const taken = createServer().listen(0, '127.0.0.1');
  await once(taken, 'listening');
  t.after(() => taken.close());
  const { port } = taken.address() as { port: number };
  await assert.rejects(
    metricsFromSettings({ AUDIT_METRICS_PORT: String(port) }, logger),
    (error: Error & { field?: string }) =>
      error.field === 'AUDIT_METRICS_PORT' && /EADDRINUSE/.test(error.message),
  );
});

test('GET /metrics serves the registry with the process metrics; other paths are 404; close stops it', async () => {
  const endpoint = await metricsFromSettings({ AUDIT_METRICS_PORT: '0' }, logger);
  assert.ok(endpoint !== undefined);
  assert.match(endpoint.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  const counter = new Counter({
    name: 'audit_trail_test_things_total',
    help: 'things',
    registers: [endpoint.registry],
  });
  counter.inc(7);
  const res = await fetch(endpoint.url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const samples = parseMetrics(await res.text());
  assert.equal(metricValue(samples, 'audit_trail_test_things_total'), 7);
  assert.ok((metricValue(samples, 'process_resident_memory_bytes') ?? 0) > 0);
  assert.ok(metricValue(samples, 'nodejs_eventloop_lag_seconds') !== undefined);
  const base = endpoint.url.replace(/\/metrics$/, '');
  for (const path of ['/', '/metrics/x', '/healthz'])
    assert.equal((await fetch(base + path)).status, 404, path);
  assert.equal((await fetch(endpoint.url, { method: 'POST' })).status, 404);
  await endpoint.close();
  await assert.rejects(fetch(endpoint.url));
});

test('two registries in one process keep their metrics apart', async () => {
  const a = await serveMetrics(new Registry(), { port: 0, host: '127.0.0.1' }, logger);
  const b = await serveMetrics(new Registry(), { port: 0, host: '127.0.0.1' }, logger);
  new Counter({ name: 'audit_trail_test_a_total', help: 'a', registers: [a.registry] }).inc();
  const textB = await (await fetch(b.url)).text();
  assert.equal(metricValue(parseMetrics(textB), 'audit_trail_test_a_total'), undefined);
  const textA = await (await fetch(a.url)).text();
  assert.equal(metricValue(parseMetrics(textA), 'audit_trail_test_a_total'), 1);
  await Promise.all([a.close(), b.close()]);
});
