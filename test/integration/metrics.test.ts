/**
 * GET /metrics of every long-running command against the local stack: each
 * runs as a real process with AUDIT_METRICS_PORT set, is scraped while it
 * runs, and what it reports is compared with what happened: events archived
 * and objects in the bucket, events on the SIEM topic, alerts on the alerts
 * topic, exports asked of the exporter group and of `serve`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { METRIC_PREFIX } from '../../common/metrics/metrics.js';
import { classifyArchiveKey } from '../../consumers/archiver/archive-key.js';
import type { ExportResult } from '../../consumers/exporter/export-request.js';
import { tempDir } from '../helpers.js';
import {
  declaredMetrics,
  documentedMetrics,
  type MetricSample,
  metricValue,
  parseMetrics,
} from '../metrics-text.js';
import { eventFiles } from './event-files.js';
import {
  type MemberProcess,
  PREFIX,
  pipelineEnv,
  startMember,
  stopMember,
  waitUntil,
} from './pipeline.js';
import {
  committedRecords,
  createTopics,
  kafkaClient,
  kcatCommitted,
  runCli,
  testBucket,
} from './stack.js';

const EVENTS = 2000;

/** A port nobody listens on now. */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

interface Scraped {
  member: MemberProcess;
  scrape: () => Promise<MetricSample[]>;
  /** The text of GET /metrics. */
  text: () => Promise<string>;
}

/** `audit-trail <args>` with its metrics on a port of its own. */
async function startScraped(
  t: TestContext,
  env: NodeJS.ProcessEnv,
  args: string[],
): Promise<Scraped> {
  const port = await freePort();
  const member = startMember({ ...env, AUDIT_METRICS_PORT: String(port) }, args);
  t.after(() => member.child.kill('SIGKILL'));
  const url = `http://127.0.0.1:${port}/metrics`;
  const text = async (): Promise<string> => {
    const res = await fetch(url);
    assert.equal(res.status, 200);
    return res.text();
  };
  const scrape = async (): Promise<MetricSample[]> => parseMetrics(await text());
  await waitUntil(
    () =>
      scrape().then(
        () => true,
        () => false,
      ),
    30_000,
    `GET /metrics of ${args[0] ?? ''}\n${member.log()}`,
  );
  return { member, scrape, text };
}

/** Waits until the scraped `name` (with `labels`) reaches `value`; returns the last scrape. */
async function scrapeUntil(
  s: Scraped,
  name: string,
  value: number,
  labels: Record<string, string> = {},
): Promise<MetricSample[]> {
  let last: MetricSample[] = [];
  await waitUntil(
    async () => {
      last = await s.scrape();
      return metricValue(last, name, labels) === value;
    },
    60_000,
    `${name} ${JSON.stringify(labels)} = ${value}\n${s.member.log()}`,
  ).catch((error: Error) => {
    const seen = last.filter((sample) => sample.name.startsWith('audit_trail_'));
    error.message += `\nlast scrape: ${JSON.stringify(seen)}`;
    throw error;
  });
  return last;
}

/** The command declares exactly the metrics docs/metrics.md lists for its stage, with their types. */
async function assertDocumented(s: Scraped, stage: string): Promise<void> {
  assert.deepEqual(
    declaredMetrics(await s.text(), METRIC_PREFIX),
    documentedMetrics(`${METRIC_PREFIX}${stage}_`),
    `the ${stage} metrics of docs/metrics.md`,
  );
}

function assertProcessMetrics(samples: MetricSample[]): void {
  assert.ok((metricValue(samples, 'process_resident_memory_bytes') ?? 0) > 0, 'RSS');
  assert.ok(metricValue(samples, 'process_cpu_seconds_total') !== undefined, 'CPU');
  assert.ok(metricValue(samples, 'nodejs_eventloop_lag_seconds') !== undefined, 'event loop lag');
}

async function createExtraTopics(t: TestContext, topics: string[]): Promise<void> {
  const admin = kafkaClient().admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: topics.map((topic) => ({ topic, numPartitions: 3, replicationFactor: 1 })),
  });
  await admin.disconnect();
  t.after(async () => {
    const cleanup = kafkaClient().admin();
    await cleanup.connect();
    await cleanup.deleteTopics({ topics }).catch(() => undefined);
    await cleanup.disconnect();
  });
}

test('each long-running command serves /metrics whose values match what it did', async (t) => {
  const { topic } = await createTopics(t, 3);
  const { bucket, store } = await testBucket(t);
  const alerts = `${topic}.alerts`;
  const cef = `${topic}.cef`;
  const requests = `${topic}.export.requests`;
  const results = `${topic}.export.results`;
  await createExtraTopics(t, [
    `${topic}.monitor`,
    alerts,
    `${alerts}.ocsf`,
    cef,
    requests,
    results,
  ]);
  const dir = await tempDir(t);
  const env = pipelineEnv(topic, bucket, {
    AUDIT_ARCHIVER_GROUP: `it-archiver-${randomBytes(4).toString('hex')}`,
    AUDIT_ALERTS_TOPIC: alerts,
    AUDIT_MONITOR_GROUP: `it-monitor-${randomBytes(4).toString('hex')}`,
    AUDIT_EXPORT_REQUESTS_TOPIC: requests,
    AUDIT_EXPORT_RESULTS_TOPIC: results,
    AUDIT_EXPORTER_GROUP: `it-exporter-${randomBytes(4).toString('hex')}`,
    AUDIT_EXPORTS_PREFIX: 'exports',
    AUDIT_EXPORT_WAIT_TIMEOUT_MS: '60000',
    AUDIT_BATCH_MAX_EVENTS: '300',
    AUDIT_BATCH_MAX_AGE_MS: '1000',
    AUDIT_HTTP_TOKENS_FILE: join(dir, 'tokens'),
  });

  // EVENTS events, three of them failed integrity checks of one package within minutes (an alert)
  const { files } = eventFiles(dir, 1, EVENTS - 3, 20);
  const file = files[0] as string;
  const base = Date.now() - 3_600_000;
  for (let i = 0; i < 3; i++)
    appendFileSync(
      file,
      `${JSON.stringify({
        id: `0190b6a2-0001-7000-8000-${String(i).padStart(12, '0')}`,
        timestamp: base + i * 60_000,
        event_type: 'IntegrityCheck',
        package_name: 'it-tampered',
        package_version: '1.0.0',
        source: 'it-metrics',
        success: false,
        error_message: 'checksum mismatch',
      })}\n`,
    );
  const produced = await runCli(['produce', '--from', file], {
    ...env,
    AUDIT_SPOOL_DIR: join(dir, 'spool'),
  });
  assert.equal(produced.code, 0, produced.stderr);

  await t.test('archive', async (t) => {
    const archiver = await startScraped(t, env, ['archive']);
    const samples = await scrapeUntil(
      archiver,
      'audit_trail_archiver_events_archived_total',
      EVENTS,
    );
    const keys: string[] = [];
    for await (const key of store.list(`${PREFIX}/`)) keys.push(key);
    const objects = keys.filter((key) => classifyArchiveKey(PREFIX, key).kind === 'object');
    let objectBytes = 0;
    for (const key of objects) objectBytes += (await store.get(key)).length;
    const value = (name: string) => metricValue(samples, `audit_trail_archiver_${name}`);
    assert.equal(value('objects_written_total'), objects.length);
    assert.equal(value('batch_events_count'), objects.length);
    assert.equal(value('batch_events_sum'), EVENTS);
    assert.equal(value('records_in_total'), EVENTS);
    assert.equal(value('duplicates_dropped_total'), 0);
    assert.equal(value('dead_letters_total'), 0);
    assert.ok((value('bytes_written_total') ?? 0) >= objectBytes, 'bytes of the objects at least');
    assert.ok((value('upload_duration_seconds_count') ?? 0) >= objects.length);
    // everything archived: each of the three partitions it handles lags by 0
    const lag = samples.filter((s) => s.name === 'audit_trail_archiver_consumer_lag_events');
    assert.deepEqual(lag.map((s) => [s.labels['partition'], s.value]).sort(), [
      ['0', 0],
      ['1', 0],
      ['2', 0],
    ]);
    assertProcessMetrics(samples);
    await assertDocumented(archiver, 'archiver');
    assert.equal(await stopMember(archiver.member), 0, archiver.member.log());
  });

  await t.test('siem-feed', async (t) => {
    const feed = await startScraped(t, env, ['siem-feed', '--format', 'cef']);
    const samples = await scrapeUntil(feed, 'audit_trail_siem_feed_records_out_total', EVENTS, {
      format: 'cef',
    });
    assert.equal(committedRecords(cef).length, EVENTS, 'the events on the feed topic');
    assert.equal(metricValue(samples, 'audit_trail_siem_feed_records_in_total'), EVENTS);
    assert.equal(metricValue(samples, 'audit_trail_siem_feed_dead_letters_total'), 0);
    assert.ok((metricValue(samples, 'audit_trail_siem_feed_transactions_total') ?? 0) > 0);
    assert.equal(metricValue(samples, 'audit_trail_siem_feed_transactions_aborted_total'), 0);
    assertProcessMetrics(samples);
    await assertDocumented(feed, 'siem_feed');
    assert.equal(await stopMember(feed.member), 0, feed.member.log());
  });

  await t.test('monitor', async (t) => {
    const monitor = await startScraped(t, env, ['monitor']);
    await scrapeUntil(monitor, 'audit_trail_monitor_records_in_total', EVENTS);
    // every routed record evaluated: the alerts are final
    let samples: MetricSample[] = [];
    await waitUntil(
      async () => {
        samples = await monitor.scrape();
        const routed = routedRecords(`${topic}.monitor`);
        return metricValue(samples, 'audit_trail_monitor_records_evaluated_total') === routed;
      },
      60_000,
      `every keyed record evaluated\n${monitor.member.log()}`,
    );
    const byRule = new Map<string, number>();
    for (const { value } of committedRecords(alerts)) {
      const rule = (JSON.parse(value) as { rule: string }).rule;
      byRule.set(rule, (byRule.get(rule) ?? 0) + 1);
    }
    assert.ok((byRule.get('integrity-failures-package') ?? 0) >= 1, 'the alert of the scenario');
    const scraped = new Map(
      samples
        .filter((s) => s.name === 'audit_trail_monitor_alerts_total')
        .map((s) => [s.labels['rule'] as string, s.value]),
    );
    assert.deepEqual(scraped, byRule, 'alerts by rule = alerts on the alerts topic');
    assertProcessMetrics(samples);
    await assertDocumented(monitor, 'monitor');
    assert.equal(await stopMember(monitor.member), 0, monitor.member.log());
  });

  await t.test('exporter', async (t) => {
    const exporter = await startScraped(t, env, ['exporter']);
    const exported: ExportResult[] = [];
    for (const filter of [[], ['--package', 'pkg-1']]) {
      const submitted = await runCli(
        ['export', '--submit', '--wait', '--format', 'ndjson', ...filter],
        env,
        80_000,
      );
      assert.equal(submitted.code, 0, submitted.stderr + exporter.member.log());
      const [, ...json] = submitted.stdout.split('\n');
      exported.push(JSON.parse(json.join('\n')) as ExportResult);
    }
    const samples = await scrapeUntil(exporter, 'audit_trail_exporter_exports_total', 2, {
      channel: 'request',
      outcome: 'done',
      format: 'ndjson',
    });
    const channel = { channel: 'request' };
    const sum = (pick: (r: ExportResult) => number) => exported.reduce((n, r) => n + pick(r), 0);
    assert.equal(metricValue(samples, 'audit_trail_exporter_exports_total', channel), 2);
    assert.equal(
      metricValue(samples, 'audit_trail_exporter_rows_total', channel),
      sum((r) => r.events),
    );
    assert.equal(
      metricValue(samples, 'audit_trail_exporter_bytes_total', channel),
      sum((r) => r.parts.reduce((n, p) => n + p.bytes, 0)),
    );
    assert.equal(
      metricValue(samples, 'audit_trail_exporter_objects_read_total', channel),
      sum((r) => r.counts?.objectsRead ?? 0),
    );
    assert.equal(
      metricValue(samples, 'audit_trail_exporter_objects_skipped_total', channel),
      sum((r) => r.counts?.objectsSkipped ?? 0),
    );
    assert.equal(metricValue(samples, 'audit_trail_exporter_verification_failures_total'), 0);
    assertProcessMetrics(samples);
    await assertDocumented(exporter, 'exporter');
    assert.equal(await stopMember(exporter.member), 0, exporter.member.log());
  });

  await t.test('serve', async (t) => {
    const added = await runCli(['tokens', 'add', 'metrics'], env);
    assert.equal(added.code, 0, added.stderr);
    const token = added.stdout.trim();
    const served = await startScraped(t, env, ['serve', '--port', '0']);
    await waitUntil(() => /listening on /.test(served.member.log()), 30_000, 'serve listening');
    const base = /listening on (\S+)/.exec(served.member.log())?.[1] as string;
    const rows: number[] = [];
    for (const query of ['format=csv', 'format=ndjson&package=pkg-2']) {
      const res = await fetch(`${base}v1/events?${query}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 200);
      const body = await res.text();
      rows.push(body.split('\n').filter((line) => line.length > 0).length);
    }
    const samples = await scrapeUntil(served, 'audit_trail_exporter_exports_total', 2, {
      channel: 'http',
      outcome: 'done',
    });
    // the CSV export has a header row
    assert.equal(
      metricValue(samples, 'audit_trail_exporter_rows_total', { channel: 'http' }),
      (rows[0] as number) - 1 + (rows[1] as number),
    );
    assert.equal(metricValue(samples, 'audit_trail_exporter_exports_total', { format: 'csv' }), 1);
    assertProcessMetrics(samples);
    // the API's port does not serve the metrics
    const other = await fetch(`${base}metrics`);
    assert.notEqual(other.status, 200);
    await assertDocumented(served, 'exporter');
    assert.equal(await stopMember(served.member), 0, served.member.log());
  });
});

/** Records on the monitor's keyed topic, as a read_committed reader sees them (each evaluated once). */
function routedRecords(keyed: string): number {
  return kcatCommitted(keyed, '%o\\n')
    .split('\n')
    .filter((line) => line.length > 0).length;
}
