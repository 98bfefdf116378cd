/**
 * Exports read what their selection can touch, over an archive of 48
 * simulated hours written by the real archiver from a real topic: events
 * produced with record timestamps two days back, some with event timestamps
 * 30 hours before their record time (an installer that was offline).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { classifyArchiveKey, hourOf, HOUR_MS } from '../../consumers/archiver/archive-key.js';
import { exportEvents } from '../../consumers/exporter/export-events.js';
import type { EventFilter } from '../../consumers/exporter/filter.js';
import type { ObjectStore } from '../../consumers/object-store/object-store.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { AUDIT_EVENT_TYPES, type AuditEventType } from '../../schemas/event-type.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { encodeSingleObject } from '../../schemas/single-object.js';
import { collect, tempDir } from '../helpers.js';
import { PREFIX, pipelineEnv } from './pipeline.js';
import { createTopics, kafkaClient, runCli, testBucket } from './stack.js';

const HOURS = 48;
const PER_HOUR = 50;
/** Every LATE_EVERY-th event was written offline: its own timestamp is LATE_BY before its record time. */
const LATE_EVERY = 40;
const LATE_BY = 30 * HOUR_MS;

interface Produced {
  event: AuditEventRecord;
  recordTime: number;
}

/** The events of 48 hours from `base`; packages change with the hour (two per hour, six groups). */
function events(base: number): Produced[] {
  const out: Produced[] = [];
  for (let h = 0; h < HOURS; h++) {
    for (let i = 0; i < PER_HOUR; i++) {
      const k = h * PER_HOUR + i;
      const recordTime = base + h * HOUR_MS + i * Math.floor(HOUR_MS / PER_HOUR);
      out.push({
        recordTime,
        event: {
          id: `0190b6a2-7c3e-7d4a-9b1e-${String(k).padStart(12, '0')}`,
          timestamp: k % LATE_EVERY === 7 ? recordTime - LATE_BY : recordTime,
          event_type: AUDIT_EVENT_TYPES[k % AUDIT_EVENT_TYPES.length] as AuditEventType,
          package_name: `pkg-${h % 6}-${k % 2}`,
          package_version: `1.${k % 3}.0`,
          user: `user-${k % 4}`,
          ip_address: `10.0.0.${k % 6}`,
          details: { seq: String(k) },
          success: k % 5 !== 0,
          error_message: k % 5 !== 0 ? null : 'failed',
          source: `host-${k % 3}`,
        },
      });
    }
  }
  return out;
}

async function produce(topic: string, produced: readonly Produced[]): Promise<void> {
  const schemas = auditEventSchemas();
  const producer = kafkaClient().producer();
  await producer.connect();
  for (let i = 0; i < produced.length; i += PER_HOUR) {
    await producer.send({
      topic,
      messages: produced.slice(i, i + PER_HOUR).map(({ event, recordTime }) => ({
        key: event.package_name,
        value: encodeSingleObject(schemas, event),
        // CreateTime: the archiver keys each object by its first record's timestamp
        timestamp: String(recordTime),
      })),
    });
  }
  await producer.disconnect();
}

const iso = (t: number): string => new Date(t).toISOString();

/** The counts of the summary line `export` prints on stderr. */
function countsOf(stderr: string): {
  listed: number;
  selected: number;
  skipped: number;
  read: number;
  events: number;
} {
  const m = /objects listed (\d+), selected (\d+), skipped (\d+), read (\d+); events (\d+);/.exec(
    stderr,
  );
  assert.ok(m !== null, `a summary line: ${stderr}`);
  const [listed, selected, skipped, read, events] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  return { listed, selected, skipped, read, events };
}

const idsOf = (ndjson: string): string[] =>
  ndjson
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { id: string }).id)
    .sort();

async function exportIds(store: ObjectStore, filter: EventFilter) {
  const run = exportEvents(store, { prefix: PREFIX, filter });
  const records = await collect(run.records);
  return { ids: records.map((r) => r.id).sort(), counts: run.counts };
}

test('exports over 48 archived hours: one hour reads its neighbourhood only, late events come through pointers, packages skip objects, every filter holds, verification refuses one changed byte', async (t) => {
  const { topic } = await createTopics(t, 2);
  const { bucket, store } = await testBucket(t);
  const env = pipelineEnv(topic, bucket, { AUDIT_BATCH_MAX_EVENTS: '50' });
  const base = hourOf(Date.now()) - (HOURS + 2) * HOUR_MS;
  const produced = events(base);
  await produce(topic, produced);
  const archived = await runCli(['archive', '--once'], env, 180_000);
  assert.equal(archived.code, 0, archived.stderr);

  const all = await collect(store.list(`${PREFIX}/`));
  const objects = all.filter((k) => classifyArchiveKey(PREFIX, k).kind === 'object');
  const pointers = all.flatMap((k) => {
    const kind = classifyArchiveKey(PREFIX, k);
    return kind.kind === 'late' ? [kind] : [];
  });
  assert.ok(pointers.length > 0, 'the archiver wrote late pointers');
  const expectIds = (keep: (e: AuditEventRecord) => boolean): string[] =>
    produced
      .map((p) => p.event)
      .filter(keep)
      .map((e) => e.id)
      .sort();
  /** The objects an export of [from, to) must list: key hours one either side, and pointer targets. */
  const neighbourhood = (from: number, to: number): Set<string> => {
    const keys = new Set(
      objects.filter((k) => {
        const kind = classifyArchiveKey(PREFIX, k);
        const hour = kind.kind === 'object' ? kind.object.hourStart : Number.NaN;
        return hour >= hourOf(from) - HOUR_MS && hour <= hourOf(to - 1) + HOUR_MS;
      }),
    );
    for (const p of pointers) if (p.eventHour >= from && p.eventHour < to) keys.add(p.objectKey);
    return keys;
  };

  // one hour: only the objects of that hour and its neighbours (and what its pointers name) are listed
  const hour = base + 20 * HOUR_MS;
  const oneHour = await runCli(
    ['export', '--format', 'ndjson', '--from', iso(hour), '--to', iso(hour + HOUR_MS)],
    env,
  );
  assert.equal(oneHour.code, 0, oneHour.stderr);
  const c = countsOf(oneHour.stderr);
  const expectedKeys = neighbourhood(hour, hour + HOUR_MS);
  assert.equal(c.listed, expectedKeys.size);
  assert.equal(c.selected, expectedKeys.size);
  assert.ok(c.listed < objects.length / 8, `${c.listed} of ${objects.length} objects listed`);
  assert.equal(c.read + c.skipped, c.selected);
  t.diagnostic(
    `${objects.length} objects, ${pointers.length} late pointers; one hour: listed ${c.listed}, read ${c.read}`,
  );
  const inHour = (e: AuditEventRecord): boolean =>
    e.timestamp >= hour && e.timestamp < hour + HOUR_MS;
  assert.deepEqual(idsOf(oneHour.stdout), expectIds(inHour));
  assert.equal(c.events, expectIds(inHour).length);
  assert.match(oneHour.stderr, new RegExp(`verified OK \\(${c.read} objects\\)`));

  // an hour that holds only offline events: they are found through the late pointers alone
  const lateHour = base - 10 * HOUR_MS;
  const late = await exportIds(store, { from: lateHour, to: lateHour + HOUR_MS });
  const lateExpected = expectIds(
    (e) => e.timestamp >= lateHour && e.timestamp < lateHour + HOUR_MS,
  );
  assert.ok(lateExpected.length > 0);
  assert.deepEqual(late.ids, lateExpected);
  assert.equal(late.counts.objectsSelected, neighbourhood(lateHour, lateHour + HOUR_MS).size);
  // and an hour inside the archive gets both its own events and offline events written 30 hours later
  const mixed = base + 5 * HOUR_MS;
  const both = await exportIds(store, { from: mixed, to: mixed + HOUR_MS });
  const mixedExpected = produced.filter(
    (p) => p.event.timestamp >= mixed && p.event.timestamp < mixed + HOUR_MS,
  );
  assert.ok(mixedExpected.some((p) => p.recordTime - p.event.timestamp === LATE_BY));
  assert.deepEqual(both.ids, mixedExpected.map((p) => p.event.id).sort());

  // one package: the objects that cannot hold it are skipped unread (counted on stderr)
  const pkg = await runCli(['export', '--format', 'ndjson', '--package', 'pkg-0-1'], env);
  assert.equal(pkg.code, 0, pkg.stderr);
  const p = countsOf(pkg.stderr);
  assert.equal(p.listed, objects.length);
  assert.equal(p.selected, objects.length);
  assert.ok(p.skipped > objects.length / 2, `${p.skipped} of ${objects.length} skipped`);
  assert.equal(p.read + p.skipped, objects.length);
  assert.deepEqual(
    idsOf(pkg.stdout),
    expectIds((e) => e.package_name === 'pkg-0-1'),
  );

  // every filter, against a computation of its own over the produced events
  const day = { from: base + 12 * HOUR_MS, to: base + 36 * HOUR_MS };
  const within = (e: AuditEventRecord): boolean => e.timestamp >= day.from && e.timestamp < day.to;
  const cases: [string, EventFilter, (e: AuditEventRecord) => boolean][] = [
    ['version', { packageVersion: '1.2.0' }, (e) => e.package_version === '1.2.0'],
    [
      'several types',
      { eventTypes: ['PackageInstall', 'IntegrityCheck'] },
      (e) => e.event_type === 'PackageInstall' || e.event_type === 'IntegrityCheck',
    ],
    ['user', { user: 'user-3' }, (e) => e.user === 'user-3'],
    ['ip', { ipAddress: '10.0.0.5' }, (e) => e.ip_address === '10.0.0.5'],
    ['source', { source: 'host-1' }, (e) => e.source === 'host-1'],
    ['success false', { success: false }, (e) => !e.success],
    ['from/to', day, within],
    [
      'all at once',
      { ...day, packageName: 'pkg-2-0', user: 'user-2', success: true },
      (e) => within(e) && e.package_name === 'pkg-2-0' && e.user === 'user-2' && e.success,
    ],
  ];
  for (const [name, filter, keep] of cases) {
    const result = await exportIds(store, filter);
    const expected = expectIds(keep);
    assert.ok(expected.length > 0, `${name}: the case selects something`);
    assert.deepEqual(result.ids, expected, name);
  }

  // the whole archive verifies
  const verified = await runCli(['export', '--format', 'ndjson', '--require-verified'], env);
  assert.equal(verified.code, 0, verified.stderr);
  assert.match(verified.stderr, new RegExp(`verified OK \\(${objects.length} objects\\)`));
  assert.equal(idsOf(verified.stdout).length, produced.length);

  // one byte of one object of the hour changed: --require-verified refuses, names it, writes nothing
  const target = [...expectedKeys].filter((k) => objects.includes(k)).sort()[1] as string;
  const bytes = await store.get(target);
  bytes.writeUInt8(bytes.readUInt8(bytes.length - 40) ^ 0x01, bytes.length - 40);
  await store.put(target, bytes);
  const out = join(await tempDir(t), 'hour.ndjson');
  const refused = await runCli(
    [
      'export',
      '--format',
      'ndjson',
      '--require-verified',
      '--from',
      iso(base),
      '--to',
      iso(base + HOURS * HOUR_MS),
      '--out',
      out,
    ],
    env,
  );
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(
    refused.stderr,
    new RegExp(`VERIFY_FAILED: archive object ${target} does not verify: SHA-256`),
  );
  assert.equal(existsSync(out), false, 'nothing written');
});
