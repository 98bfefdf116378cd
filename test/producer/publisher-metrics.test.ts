import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { listSegments, segmentFileName } from '../../common/spool/segments.js';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { METRIC_PREFIX } from '../../common/metrics/metrics.js';
import { AuditEvent } from '../../producer/audit-event.js';
import { AuditEventType } from '../../schemas/event-type.js';
import { AuditTrail } from '../../producer/audit-trail.js';
import { PublisherMetrics } from '../../producer/publisher-metrics.js';
import { tempDir } from '../helpers.js';
import { declaredMetrics, documentedMetrics, metricValue, parseMetrics } from '../metrics-text.js';

const event = (i: number): AuditEvent =>
  new AuditEvent(AuditEventType.PackageInstall)
    .withPackageName(`pkg-${i}`)
    .withPackageVersion('1.0.0')
    .withUser('alice');

test('the publisher metrics read the events added, spooled and made durable, and the spool', async (t) => {
  const dir = await tempDir(t);
  const registry = new Registry();
  const metrics = new PublisherMetrics({ registry });
  const trail = new AuditTrail({ spoolDir: join(dir, 'spool'), metrics, retainInMemory: false });
  const memory = new AuditTrail({ metrics });
  for (let i = 0; i < 40; i++) trail.addEvent(event(i));
  for (let i = 0; i < 3; i++) memory.addEvent(event(i));
  const value = async (name: string, transport: string) =>
    metricValue(parseMetrics(await registry.metrics()), `audit_trail_publisher_${name}`, {
      transport,
    });
  assert.equal(await value('events_added_total', 'local'), 40);
  assert.equal(await value('events_spooled_total', 'local'), 40);
  await trail.flush();
  assert.equal(await value('events_acknowledged_total', 'local'), 40);
  assert.equal(await value('spool_depth_events', 'local'), 0);
  const spoolDir = join(dir, 'spool');
  const onDisk = listSegments(spoolDir)
    .map((base) => statSync(join(spoolDir, segmentFileName(base))).size)
    .reduce((a, b) => a + b, 0);
  assert.ok(onDisk > 0);
  assert.equal(await value('spool_bytes', 'local'), onDisk);
  assert.equal(await value('ship_errors_total', 'local'), 0);
  assert.equal(await value('events_added_total', 'memory'), 3);
  assert.equal(await value('events_spooled_total', 'memory'), 0);
  // what docs/metrics.md lists, with their types (no command serves the publisher's metrics)
  assert.deepEqual(
    declaredMetrics(await registry.metrics(), METRIC_PREFIX),
    documentedMetrics(`${METRIC_PREFIX}publisher_`),
  );
  await trail.close();
});

test('events not yet flushed are in the spool depth, not acknowledged', async (t) => {
  const dir = await tempDir(t);
  const registry = new Registry();
  const trail = new AuditTrail({
    spoolDir: join(dir, 'spool'),
    metrics: new PublisherMetrics({ registry }),
    spool: { lingerMs: 60_000 },
  });
  trail.addEvent(event(1));
  await trail.flush();
  trail.addEvent(event(2));
  trail.addEvent(event(3));
  const samples = parseMetrics(await registry.metrics());
  assert.equal(metricValue(samples, 'audit_trail_publisher_events_acknowledged_total'), 1);
  assert.equal(metricValue(samples, 'audit_trail_publisher_spool_depth_events'), 2);
  await trail.close();
});
