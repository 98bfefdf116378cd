/**
 * The exporter group against the local stack: members are real `audit-trail
 * exporter` processes, requests are sent by `audit-trail export --submit` or
 * straight onto the requests topic, results are read back with kcat as a
 * read_committed reader, and exports are compared with a direct `export`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { accessRecordIdFor } from '../../consumers/exporter/access-record.js';
import { exportResultKey, type ExportResult } from '../../consumers/exporter/export-request.js';
import type { ObjectStore } from '../../consumers/object-store/object-store.js';
import { ExporterMember } from '../../consumers/exporter/exporter-member.js';
import { createKafka } from '../../kafka/client.js';
import { kafkaSettingsFromEnv } from '../../kafka/settings.js';
import { tempDir } from '../helpers.js';
import { eventFiles } from './event-files.js';
import {
  PREFIX,
  pipelineEnv,
  startMember,
  stopMember,
  waitUntil,
  type MemberProcess,
} from './pipeline.js';
import {
  committedRecords,
  consumeEvents,
  createTopics,
  kafkaClient,
  runCli,
  testBucket,
} from './stack.js';

const EXPORTS = 'exports';

interface Setup {
  env: NodeJS.ProcessEnv;
  store: ObjectStore;
  requests: string;
  results: string;
  /** `audit-trail export --format ndjson` of the whole archive, rendered in one piece. */
  direct: string;
}

/** Topics, a bucket and an archive of `events` events of the test's own; the exporter's topics and group too. */
async function setup(t: TestContext, events: number): Promise<Setup> {
  // one events partition: the archive under test is the input, not the archiver
  const { topic } = await createTopics(t, 1);
  const { bucket, store } = await testBucket(t);
  const requests = `${topic}.export.requests`;
  const results = `${topic}.export.results`;
  const admin = kafkaClient().admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: requests, numPartitions: 2, replicationFactor: 1 },
      { topic: results, numPartitions: 2, replicationFactor: 1 },
    ],
  });
  await admin.disconnect();
  t.after(async () => {
    const cleanup = kafkaClient().admin();
    await cleanup.connect();
    await cleanup.deleteTopics({ topics: [requests, results] }).catch(() => undefined);
    await cleanup.disconnect();
  });
  const env = pipelineEnv(topic, bucket, {
    AUDIT_EXPORT_REQUESTS_TOPIC: requests,
    AUDIT_EXPORT_RESULTS_TOPIC: results,
    AUDIT_EXPORTER_GROUP: `it-exporter-${randomBytes(4).toString('hex')}`,
    AUDIT_EXPORTER_SESSION_TIMEOUT_MS: '6000',
    AUDIT_EXPORTS_PREFIX: EXPORTS,
    AUDIT_EXPORT_WAIT_TIMEOUT_MS: '60000',
  });
  const dir = await tempDir(t);
  const { files } = eventFiles(dir, 1, events, 20);
  const produced = await runCli(['produce', '--from', files[0] as string], {
    ...env,
    AUDIT_SPOOL_DIR: join(dir, 'spool'),
  });
  assert.equal(produced.code, 0, produced.stderr);
  const archived = await runCli(['archive', '--once'], env);
  assert.equal(archived.code, 0, archived.stderr);
  const direct = await runCli(['export', '--format', 'ndjson'], env);
  assert.equal(direct.code, 0, direct.stderr);
  assert.equal(direct.stdout.split('\n').length - 1, events);
  return { env, store, requests, results, direct: direct.stdout };
}

function startExporter(env: NodeJS.ProcessEnv): MemberProcess {
  return startMember(env, ['exporter']);
}

async function stopExporter(t: TestContext, member: MemberProcess): Promise<number | null> {
  const code = await stopMember(member);
  t.diagnostic(`member: ${member.log().trim().split('\n').at(-1) ?? ''}`);
  return code;
}

/** Every result on `topic` as a read_committed reader sees it, by kcat (librdkafka). */
function committedResults(topic: string): { key: string; result: ExportResult }[] {
  return committedRecords(topic).map(({ key, value }) => ({
    key,
    result: JSON.parse(value) as ExportResult,
  }));
}

async function keysUnder(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of store.list(prefix)) keys.push(key);
  return keys;
}

/** The parts of `result`, checked against their hashes and the listing, concatenated. */
async function exportedText(store: ObjectStore, result: ExportResult): Promise<string> {
  assert.equal(result.status, 'done', JSON.stringify(result.error));
  assert.deepEqual(
    await keysUnder(store, `${EXPORTS}/${result.id}/`),
    [...result.parts.map((p) => p.key), exportResultKey(EXPORTS, result.id)].sort(),
    'exactly one set of parts and result.json: no orphan part',
  );
  const bodies: Buffer[] = [];
  for (const [index, part] of result.parts.entries()) {
    assert.ok(part.key.endsWith(`/part-${String(index).padStart(5, '0')}.ndjson`), part.key);
    const body = await store.get(part.key);
    const { createHash } = await import('node:crypto');
    assert.equal(createHash('sha256').update(body).digest('hex'), part.sha256, part.key);
    bodies.push(body);
  }
  return Buffer.concat(bodies).toString('utf8');
}

async function sendRequests(
  topic: string,
  values: { key?: string; value: string }[],
): Promise<void> {
  const producer = kafkaClient().producer();
  await producer.connect();
  await producer.send({
    topic,
    messages: values.map((v) => ({ key: v.key ?? null, value: v.value })),
  });
  await producer.disconnect();
}

function request(
  id: string,
  filters: Record<string, string | string[]>,
  format = 'ndjson',
): string {
  return JSON.stringify({
    id,
    format,
    filters,
    requested_by: 'it-auditor',
    requested_from: 'it-host',
    submitted_at: new Date().toISOString(),
  });
}

test('export --submit --wait: one member renders the request into parts and result.json, the result is on the results topic once, and the export equals a direct one', async (t) => {
  const s = await setup(t, 1500);
  const member = startExporter({ ...s.env, AUDIT_EXPORT_PART_BYTES: '65536' });
  t.after(() => member.child.kill('SIGKILL'));
  const submitted = await runCli(
    ['export', '--submit', '--wait', '--format', 'ndjson'],
    s.env,
    80_000,
  );
  assert.equal(submitted.code, 0, submitted.stderr + member.log());
  const [id, ...json] = submitted.stdout.split('\n');
  const printed = JSON.parse(json.join('\n')) as ExportResult;
  assert.equal(printed.id, id);
  assert.equal(printed.events, 1500);
  assert.ok(printed.parts.length > 1, 'several parts');
  assert.equal(await exportedText(s.store, printed), s.direct);
  assert.deepEqual(
    JSON.parse((await s.store.get(exportResultKey(EXPORTS, printed.id))).toString()),
    printed,
  );
  await waitUntil(() => committedResults(s.results).length > 0, 20_000, 'the result on the topic');
  assert.equal(await stopExporter(t, member), 0, member.log());
  assert.deepEqual(committedResults(s.results), [{ key: id, result: printed }]);
  // who read the audit data: the member recorded it on the events topic, with the request's id
  const events = await consumeEvents(s.env['AUDIT_TOPIC'] as string, 1502, 20_000);
  const accesses = events.filter((e) => e.event.details['audit_access.request_id'] === id);
  assert.equal(accesses.length, 1);
  const access = accesses[0]?.event;
  assert.equal(access?.id, accessRecordIdFor(id as string));
  assert.equal(access?.event_type, 'IntegrityCheck');
  assert.equal(access?.details['audit_access.channel'], 'request');
  assert.equal(access?.details['audit_access.events'], '1500');
  assert.equal(access?.success, true);
});

test('a request with a bad filter gets a failed result naming the parameter; unreadable requests are answered or skipped; the member goes on serving', async (t) => {
  const s = await setup(t, 200);
  const member = startExporter(s.env);
  t.after(() => member.child.kill('SIGKILL'));
  const bad = '0190b6a2-0000-7000-8000-00000000000b';
  const badFormat = '0190b6a2-0000-7000-8000-00000000000f';
  const good = '0190b6a2-0000-7000-8000-000000000009';
  // one key: one partition, so the requests are answered in this order
  await sendRequests(s.requests, [
    { key: 'k', value: request(bad, { type: 'PackageInstal' }) },
    { key: 'k', value: 'not json at all' },
    { key: 'k', value: request(badFormat, {}, 'xml') },
    { key: 'k', value: request(good, { package: 'pkg-3' }) },
  ]);
  await waitUntil(() => committedResults(s.results).length >= 3, 60_000, 'three results');
  assert.equal(await stopExporter(t, member), 0, member.log());
  const results = committedResults(s.results);
  assert.deepEqual(
    results.map((r) => [r.key, r.result.status, r.result.error?.field ?? null]),
    [
      [bad, 'failed', 'type'],
      [badFormat, 'failed', 'format'],
      [good, 'done', null],
    ],
  );
  assert.equal(results[0]?.result.error?.code, 'INVALID_OPTION');
  assert.match(results[0]?.result.error?.message ?? '', /PackageInstal/);
  assert.deepEqual(await keysUnder(s.store, `${EXPORTS}/${bad}/`), [exportResultKey(EXPORTS, bad)]);
  const expected = s.direct
    .split('\n')
    .filter((line) => line.includes('"package_name":"pkg-3"'))
    .map((line) => `${line}\n`)
    .join('');
  assert.equal(results[2]?.result.events, 10);
  assert.equal(await exportedText(s.store, results[2]?.result), expected);
  assert.match(member.log(), /skipped/);
});

test('a member SIGKILLed mid-export: the next member completes it with one result for read_committed readers, one result.json, one contiguous set of parts', async (t) => {
  const s = await setup(t, 3000);
  // the first member writes parts of 1 KiB: many of them, slowly enough to be killed among them
  const first = startExporter({ ...s.env, AUDIT_EXPORT_PART_BYTES: '1024' });
  t.after(() => first.child.kill('SIGKILL'));
  const submitted = await runCli(['export', '--submit', '--format', 'ndjson'], s.env);
  assert.equal(submitted.code, 0, submitted.stderr);
  const id = submitted.stdout.trim();
  const killAt = `${EXPORTS}/${id}/part-00030.ndjson`;
  await waitUntil(
    async () => (await keysUnder(s.store, `${EXPORTS}/${id}/`)).includes(killAt),
    60_000,
    `${killAt} from the first member\n${first.log()}`,
  );
  first.child.kill('SIGKILL');
  await first.exited;
  const left = await keysUnder(s.store, `${EXPORTS}/${id}/`);
  t.diagnostic(`the killed member left ${left.length} parts`);
  assert.ok(!left.includes(exportResultKey(EXPORTS, id)), 'no result.json before completion');
  assert.equal(committedResults(s.results).length, 0, 'no result before completion');

  // the next member has parts of 64 KiB: fewer than the killed one left, which must go
  const second = startExporter({ ...s.env, AUDIT_EXPORT_PART_BYTES: '65536' });
  t.after(() => second.child.kill('SIGKILL'));
  await waitUntil(
    () => committedResults(s.results).length > 0,
    60_000,
    `the result\n${second.log()}`,
  );
  assert.equal(await stopExporter(t, second), 0, second.log());
  const results = committedResults(s.results);
  assert.equal(results.length, 1, 'exactly one result for a read_committed reader');
  const result = results[0]?.result as ExportResult;
  assert.equal(results[0]?.key, id);
  assert.ok(
    result.parts.length < left.length,
    `${result.parts.length} parts replace ${left.length}`,
  );
  assert.deepEqual(
    JSON.parse((await s.store.get(exportResultKey(EXPORTS, id))).toString()),
    result,
  );
  assert.equal(await exportedText(s.store, result), s.direct);
});

test('members SIGKILLed as soon as a result.json appears and at a random moment: each request has exactly one committed result, its result.json and its parts', async (t) => {
  const s = await setup(t, 400);
  const ids = Array.from(
    { length: 6 },
    (_, i) => `0190b6a2-0000-7000-8000-${String(i).padStart(12, '0')}`,
  );
  await sendRequests(
    s.requests,
    ids.map((id, i) => ({
      key: id,
      value: request(id, i % 2 === 0 ? {} : { package: `pkg-${i}` }),
    })),
  );
  const env = { ...s.env, AUDIT_EXPORT_PART_BYTES: '4096', AUDIT_LOG_LEVEL: 'info' };
  const committedResultJsons = async (): Promise<string[]> =>
    (await keysUnder(s.store, `${EXPORTS}/`)).filter((key) => key.endsWith('/result.json'));

  // 1: killed as soon as a result.json appears: after the commit point, in or after its transaction
  const first = startExporter(env);
  t.after(() => first.child.kill('SIGKILL'));
  await waitUntil(async () => (await committedResultJsons()).length > 0, 40_000, 'a result.json');
  first.child.kill('SIGKILL');
  await first.exited;
  const stored = (await committedResultJsons()).length;
  const published = committedResults(s.results).length;
  t.diagnostic(`killed with ${stored} result.json and ${published} results published`);

  // 2: killed at a random moment after its first answer
  const second = startExporter(env);
  t.after(() => second.child.kill('SIGKILL'));
  const answered = (): number => second.log().split('export request answered').length - 1;
  await waitUntil(() => answered() > 0, 40_000, `a first answer\n${second.log()}`);
  await sleep(Math.floor(Math.random() * 1000));
  second.child.kill('SIGKILL');
  await second.exited;

  const before = committedResults(s.results).length;
  const last = startExporter(env);
  t.after(() => last.child.kill('SIGKILL'));
  await waitUntil(
    () => new Set(committedResults(s.results).map((r) => r.key)).size === ids.length,
    40_000,
    `every result\n${last.log()}`,
  );
  assert.equal(await stopExporter(t, last), 0, last.log());
  t.diagnostic(`${before} of ${ids.length} results before the last member`);
  const results = committedResults(s.results);
  assert.deepEqual(
    results.map((r) => r.key).sort(),
    [...ids].sort(),
    'exactly one result per request for a read_committed reader',
  );
  const lines = s.direct.split('\n').filter((line) => line.length > 0);
  for (const { key, result } of results) {
    assert.equal(result.id, key);
    assert.deepEqual(
      JSON.parse((await s.store.get(exportResultKey(EXPORTS, key))).toString()),
      result,
    );
    const i = ids.indexOf(key);
    const expected =
      i % 2 === 0 ? lines : lines.filter((l) => l.includes(`"package_name":"pkg-${i}"`));
    assert.equal(await exportedText(s.store, result), expected.map((l) => `${l}\n`).join(''), key);
  }
});

test('a zombie member, stalled past its session after writing result.json, wakes up after another member answered: fenced, one result', async (t) => {
  const s = await setup(t, 200);
  const id = '0190b6a2-0000-7000-8000-00000000002a';
  await sendRequests(s.requests, [{ key: id, value: request(id, {}) }]);
  const options = {
    store: s.store,
    archivePrefix: PREFIX,
    exportsPrefix: EXPORTS,
    requestsTopic: s.requests,
    resultsTopic: s.results,
    groupId: s.env['AUDIT_EXPORTER_GROUP'],
    sessionTimeoutMs: 6000,
  };
  let stalled: () => void = () => undefined;
  const isStalled = new Promise<void>((resolve) => (stalled = resolve));
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  const zombie = new ExporterMember({
    ...options,
    kafka: createKafka(kafkaSettingsFromEnv(s.env)),
    // stalls (a long GC pause, a frozen VM) between the commit point and the transaction
    onExported: async () => {
      stalled();
      await released;
    },
  });
  const other = new ExporterMember({ ...options, kafka: createKafka(kafkaSettingsFromEnv(s.env)) });
  t.after(async () => {
    release();
    await zombie.stop();
    await other.stop();
  });
  await zombie.start();
  await isStalled;
  assert.ok(await s.store.get(exportResultKey(EXPORTS, id)));
  await other.start();
  await waitUntil(
    () => committedResults(s.results).length > 0,
    45_000,
    "the other member's result",
  );
  assert.equal(other.stats.reused, 1, 'the other member published the committed result.json');
  release();
  // the zombie's transaction is refused; give it time to try, fail, rejoin and look again
  await sleep(8000);
  await zombie.stop();
  await other.stop();
  const results = committedResults(s.results);
  assert.equal(results.length, 1, 'exactly one result for a read_committed reader');
  assert.equal(results[0]?.key, id);
  assert.equal(await exportedText(s.store, results[0]?.result), s.direct);
  assert.equal(zombie.stats.answered, 0, 'the zombie published nothing');
});
