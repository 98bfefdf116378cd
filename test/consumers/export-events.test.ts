import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { AuditErrorCode } from '../../common/errors.js';
import {
  archiveKeyFor,
  hourOf,
  HOUR_MS,
  latePointerKey,
} from '../../consumers/archiver/archive-key.js';
import { buildArchiveObject, CHAIN_START } from '../../consumers/archiver/archive-object.js';
import { SUMMARY_META } from '../../consumers/archiver/object-summary.js';
import { batchPolicy } from '../../consumers/archiver/batch-policy.js';
import { PartitionDigester } from '../../consumers/archiver/digester.js';
import { PartitionArchiver } from '../../consumers/archiver/partition-archiver.js';
import {
  exportEvents,
  HEAD_BYTES,
  type ExportEventsOptions,
} from '../../consumers/exporter/export-events.js';
import { matchesFilter, type EventFilter } from '../../consumers/exporter/filter.js';
import { LocalDirStore } from '../../consumers/object-store/local-dir-store.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { encodeSingleObject } from '../../schemas/single-object.js';
import { collect, logRecord, record, tempDir } from '../helpers.js';

const schemas = auditEventSchemas();
const keys = generateKeyPairSync('ed25519');
/** Eight hours ago, so that the fixture's digests are recent but closed. */
const T0 = hourOf(Date.now()) - 8 * HOUR_MS;
const LATE_TIME = T0 - 3 * 24 * HOUR_MS + 300_000;

interface Fixture {
  store: LocalDirStore;
  events: AuditEventRecord[];
  /** Archive object keys of partition 0 by key hour index (0..5), then the pending tail (6). */
  objects: string[][];
  lateObject: string;
}

/**
 * Partition 0 of `audit.events`: six hours of 20 events (objects of 10, two an
 * hour; packages alpha in hours 0-2, beta in 3-5), one of hour 4's events
 * written by an installer three days offline (package gamma), a digest per
 * hour, and after the last digest a tail of 5 events (hour 6).
 */
async function fixture(t: TestContext): Promise<Fixture> {
  const store = new LocalDirStore(await tempDir(t));
  const clock = { now: T0 };
  const digester = new PartitionDigester({
    store,
    prefix: 'events',
    topic: 'audit.events',
    partition: 0,
    signingKey: keys.privateKey,
    now: () => clock.now,
  });
  const archiver = new PartitionArchiver({
    store,
    prefix: 'events',
    topic: 'audit.events',
    partition: 0,
    schemas,
    policy: batchPolicy({ maxEvents: 10, maxAgeMs: HOUR_MS }),
    codec: 'deflate',
    digester,
    now: () => clock.now,
  });
  await archiver.resume();
  const events: AuditEventRecord[] = [];
  const objects: string[][] = [];
  let offset = 0;
  let lateObject = '';
  for (let hour = 0; hour <= 6; hour++) {
    objects.push([]);
    const n = hour === 6 ? 5 : 20;
    for (let i = 0; i < n; i++) {
      const time = T0 + hour * HOUR_MS + i * 60_000;
      clock.now = time;
      const late = hour === 4 && i === 13;
      const event = record({
        id: `0190b6a2-7c3e-7d4a-9b1e-${String(offset).padStart(12, '0')}`,
        timestamp: late ? LATE_TIME : time,
        package_name: late ? 'gamma' : hour < 3 ? 'alpha' : 'beta',
        user: i % 2 === 0 ? 'ada' : 'bob',
      });
      events.push(event);
      const written = await archiver.add(
        logRecord({ offset, timestamp: time, value: encodeSingleObject(schemas, event) }),
      );
      if (written !== undefined) objects[hour]?.push(written.key);
      if (late) lateObject = 'pending';
      offset++;
    }
    const flushed = await archiver.flush();
    if (flushed !== undefined) objects[hour]?.push(flushed.key);
    if (hour === 5) {
      clock.now = T0 + 6 * HOUR_MS;
      await archiver.writeIfDue(); // the digest of hour 5; the tail stays after it
    }
  }
  lateObject = (objects[4] ?? [])[1] ?? '';
  return { store, events, objects, lateObject };
}

const run = async (
  store: LocalDirStore,
  filter: EventFilter,
  extra: Partial<ExportEventsOptions> = {},
) => {
  const result = exportEvents(store, { prefix: 'events', filter, ...extra });
  const records = await collect(result.records);
  return { records, counts: result.counts, verification: result.verification };
};

const ids = (records: AuditEventRecord[]): string[] => records.map((r) => r.id).sort();

test('a one-hour export lists that hour and its neighbours and reads only the objects that can hold it', async (t) => {
  const f = await fixture(t);
  const filter = { from: T0 + 2 * HOUR_MS, to: T0 + 3 * HOUR_MS };
  const { records, counts } = await run(f.store, filter);
  assert.deepEqual(ids(records), ids(f.events.filter((e) => matchesFilter(e, filter))));
  assert.equal(records.length, 20);
  // hours 1, 2 and 3 are listed (two objects each); those of hours 1 and 3 cannot meet the range
  assert.deepEqual(counts, {
    objectsListed: 6,
    objectsSelected: 6,
    objectsSkipped: 4,
    objectsRead: 2,
    eventsMatched: 20,
  });
});

test('events far earlier than their object are found through late pointers', async (t) => {
  const f = await fixture(t);
  assert.ok(
    (
      await f.store
        .list(latePointerKey('events', hourOf(LATE_TIME), f.lateObject))
        [Symbol.asyncIterator]()
        .next()
    ).done === false,
    'the archiver wrote the pointer',
  );
  const filter = { from: hourOf(LATE_TIME), to: hourOf(LATE_TIME) + HOUR_MS };
  const { records, counts } = await run(f.store, filter);
  assert.deepEqual(
    records.map((r) => r.package_name),
    ['gamma'],
  );
  assert.deepEqual(counts, {
    objectsListed: 1,
    objectsSelected: 1,
    objectsSkipped: 0,
    objectsRead: 1,
    eventsMatched: 1,
  });
});

test('a package filter skips the objects whose summary cannot hold the package', async (t) => {
  const f = await fixture(t);
  const { records, counts } = await run(f.store, { packageName: 'alpha' });
  assert.equal(records.length, 60);
  assert.ok(records.every((r) => r.package_name === 'alpha'));
  // 13 objects: the 6 of hours 0-2 are read, the 7 others (beta, gamma) skipped unread
  assert.equal(counts.objectsListed, 13);
  assert.equal(counts.objectsSelected, 13);
  assert.equal(counts.objectsRead, 6);
  assert.equal(counts.objectsSkipped, 7);
});

test('without bounds every object is read, each partition in offset order', async (t) => {
  const f = await fixture(t);
  const { records, counts } = await run(f.store, {});
  assert.deepEqual(
    records.map((r) => r.id),
    f.events.map((e) => e.id),
  );
  assert.equal(counts.objectsRead, 13);
  assert.equal(counts.eventsMatched, f.events.length);
});

test('a verified export checks every object it reads: verified, and pending after the last digest', async (t) => {
  const f = await fixture(t);
  const full = await run(f.store, {}, { verifyKey: keys.publicKey, graceMs: 24 * HOUR_MS });
  assert.deepEqual(full.verification, {
    configured: true,
    verified: 12,
    pending: f.objects[6],
    failed: [],
  });
  const hour = await run(
    f.store,
    { from: T0 + 2 * HOUR_MS, to: T0 + 3 * HOUR_MS },
    { verifyKey: keys.publicKey, requireVerified: true },
  );
  // the 2 objects read and, as verification is required, the 4 its summaries skipped
  assert.equal(hour.verification.verified, 6);
  assert.equal(hour.counts.objectsRead, 2);
  assert.deepEqual(hour.verification.failed, []);
  const unrequired = await run(
    f.store,
    { from: T0 + 2 * HOUR_MS, to: T0 + 3 * HOUR_MS },
    { verifyKey: keys.publicKey },
  );
  assert.equal(unrequired.verification.verified, 2);
});

test('objects after a digest older than the grace period are failures, not pending', async (t) => {
  const f = await fixture(t);
  const { verification } = await run(
    f.store,
    { from: T0 + 6 * HOUR_MS, to: T0 + 7 * HOUR_MS },
    { verifyKey: keys.publicKey, graceMs: 60_000 },
  );
  assert.deepEqual(verification.pending, []);
  assert.deepEqual(
    verification.failed.map((x) => x.key),
    f.objects[6],
  );
  assert.match(verification.failed[0]?.detail ?? '', /longer ago than the grace period/);
  await assert.rejects(
    run(
      f.store,
      { from: T0 + 6 * HOUR_MS, to: T0 + 7 * HOUR_MS },
      {
        verifyKey: keys.publicKey,
        graceMs: 60_000,
        requireVerified: true,
      },
    ),
    { code: AuditErrorCode.VerifyFailed },
  );
});

test('one changed byte: the export records the failure, and requireVerified refuses before any event of that object', async (t) => {
  const f = await fixture(t);
  const key = f.objects[2]?.[1] as string;
  const bytes = await f.store.get(key);
  bytes.writeUInt8(bytes.readUInt8(bytes.length - 30) ^ 0x01, bytes.length - 30);
  await f.store.put(key, bytes);
  const filter = { from: T0 + 2 * HOUR_MS, to: T0 + 3 * HOUR_MS };
  const lenient: Awaited<ReturnType<typeof run>> | Error = await run(f.store, filter, {
    verifyKey: keys.publicKey,
  }).catch((error: unknown) => error as Error);
  // the changed byte may break the compressed block too; either way the object is named
  if (lenient instanceof Error) assert.match(lenient.message, new RegExp(key));
  else
    assert.deepEqual(
      lenient.verification.failed.map((x) => x.key),
      [key],
    );

  const result = exportEvents(f.store, {
    prefix: 'events',
    filter,
    verifyKey: keys.publicKey,
    requireVerified: true,
  });
  const seen: AuditEventRecord[] = [];
  await assert.rejects(
    (async () => {
      for await (const r of result.records) seen.push(r);
    })(),
    (error: Error & { code?: string }) =>
      error.code === AuditErrorCode.VerifyFailed &&
      error.message.includes(key) &&
      /SHA-256/.test(error.message),
  );
  // the first object of the hour verified and was exported; nothing of the changed one
  assert.equal(seen.length, 10);
  assert.deepEqual(
    result.verification.failed.map((x) => x.key),
    [key],
  );
});

test('an object removed from the hours an export covers: a verified export names it, requireVerified refuses before any event', async (t) => {
  const f = await fixture(t);
  const removed = f.objects[2]?.[0] as string;
  await f.store.delete(removed);
  const filter = { from: T0 + 2 * HOUR_MS, to: T0 + 3 * HOUR_MS };
  const lenient = await run(f.store, filter, { verifyKey: keys.publicKey });
  assert.deepEqual(
    lenient.verification.failed.map((x) => [
      x.key,
      /lists it, but it is not in the archive/.test(x.detail),
    ]),
    [[removed, true]],
  );
  // a removed object of an hour the export does not cover is none of its business
  const other = await run(
    f.store,
    { from: T0 + 5 * HOUR_MS, to: T0 + 6 * HOUR_MS },
    { verifyKey: keys.publicKey },
  );
  assert.deepEqual(other.verification.failed, []);
  const result = exportEvents(f.store, {
    prefix: 'events',
    filter,
    verifyKey: keys.publicKey,
    requireVerified: true,
  });
  const seen: AuditEventRecord[] = [];
  await assert.rejects(
    (async () => {
      for await (const r of result.records) seen.push(r);
    })(),
    (error: Error & { code?: string }) =>
      error.code === AuditErrorCode.VerifyFailed && error.message.includes(removed),
  );
  assert.equal(seen.length, 0);
  // every object of every hour removed: the digests still say what should be there
  for (const key of f.objects.slice(0, 6).flat()) await f.store.delete(key);
  const emptied = await run(f.store, filter, {
    verifyKey: keys.publicKey,
    expected: ['audit.events/0'],
  });
  assert.equal(emptied.verification.failed.length, 6);
});

test('a skipped object is still checked when verification is required: a changed summary cannot hide events', async (t) => {
  const f = await fixture(t);
  // hour 1's objects hold alpha; an edit that made their summary say otherwise changes their bytes
  const key = f.objects[1]?.[0] as string;
  const bytes = await f.store.get(key);
  const text = bytes.toString('latin1').replace('["alpha"]', '["omega"]');
  assert.notEqual(text, bytes.toString('latin1'), 'the summary is in the header');
  await f.store.put(key, Buffer.from(text, 'latin1'));
  const filter = { packageName: 'alpha' };
  const lenient = await run(f.store, filter, { verifyKey: keys.publicKey });
  assert.equal(lenient.counts.objectsSkipped > 0, true);
  await assert.rejects(
    run(f.store, filter, { verifyKey: keys.publicKey, requireVerified: true }),
    (error: Error & { code?: string }) =>
      error.code === AuditErrorCode.VerifyFailed && error.message.includes(key),
  );
});

test('a digest edited after signing does not vouch for its objects, nor for the digest after it', async (t) => {
  const f = await fixture(t);
  const digestKeys = await collect(f.store.list('events/_digests/'));
  const target = digestKeys[3] as string;
  const digest = JSON.parse((await f.store.get(target)).toString('utf8')) as {
    objects: { key: string }[];
    user?: string;
  };
  const listed = digest.objects.map((o) => o.key);
  assert.equal(listed.length, 2);
  await f.store.put(
    target,
    Buffer.from(JSON.stringify({ ...digest, objects: digest.objects.slice().reverse() })),
  );
  const next = JSON.parse((await f.store.get(digestKeys[4] as string)).toString('utf8')) as {
    objects: { key: string }[];
  };
  const { verification } = await run(
    f.store,
    {},
    { verifyKey: keys.publicKey, graceMs: 24 * HOUR_MS },
  );
  assert.deepEqual(
    verification.failed.map((x) => x.key),
    [...listed, ...next.objects.map((o) => o.key)],
  );
  assert.match(verification.failed[0]?.detail ?? '', /no valid digest lists it/);
  assert.match(verification.failed[2]?.detail ?? '', /not a valid digest/);
  assert.equal(verification.verified, 12 - 4);
});

test('a late pointer to an object that is not there is a verification failure', async (t) => {
  const f = await fixture(t);
  const ghost = f.lateObject.replace(
    /\/\d{20}-\d{20}\.avro$/,
    '/00000000000000000500-00000000000000000509.avro',
  );
  const pointer = latePointerKey('events', hourOf(LATE_TIME), ghost);
  await f.store.put(pointer, Buffer.alloc(0));
  const filter = { from: hourOf(LATE_TIME), to: hourOf(LATE_TIME) + HOUR_MS };
  const { verification, counts } = await run(f.store, filter, {
    verifyKey: keys.publicKey,
    graceMs: 24 * HOUR_MS,
  });
  assert.equal(counts.objectsSelected, 2);
  assert.deepEqual(
    verification.failed.map((x) => x.key),
    [ghost],
  );
  await assert.rejects(
    run(f.store, filter, { verifyKey: keys.publicKey, requireVerified: true }),
    (error: Error & { code?: string }) =>
      error.code === AuditErrorCode.VerifyFailed && error.message.includes(ghost),
  );
});

test('an aborted export ends with an AbortError', async (t) => {
  const f = await fixture(t);
  const controller = new AbortController();
  const result = exportEvents(f.store, {
    prefix: 'events',
    filter: {},
    signal: controller.signal,
    onProgress: (counts) => {
      if (counts.objectsRead === 2) controller.abort();
    },
  });
  await assert.rejects(collect(result.records), { name: 'AbortError' });
  assert.equal(result.counts.objectsRead, 2);
});

test("each partition's objects are read in offset order even when a later batch has an earlier key hour", async (t) => {
  const f = await fixture(t);
  // a producer whose clock went back: offsets 10-19 carry an earlier record time than 0-9
  const archiver = new PartitionArchiver({
    store: f.store,
    prefix: 'events',
    topic: 'audit.events',
    partition: 1,
    schemas,
    policy: batchPolicy({ maxEvents: 10, maxAgeMs: HOUR_MS }),
    codec: 'deflate',
  });
  await archiver.resume();
  const written: string[] = [];
  for (let offset = 0; offset < 20; offset++) {
    const time = T0 + (offset < 10 ? 3 : 1) * HOUR_MS + offset;
    const event = record({
      id: `0190b6a2-7c3e-7d4a-9b1e-${String(1000 + offset).padStart(12, '0')}`,
      timestamp: time,
    });
    const object = await archiver.add(
      logRecord({
        offset,
        partition: 1,
        timestamp: time,
        value: encodeSingleObject(schemas, event),
      }),
    );
    if (object !== undefined) written.push(object.key);
  }
  assert.ok((written[1] as string) < (written[0] as string), 'the later batch sorts first by key');
  const { records } = await run(f.store, {});
  const partition1 = records.filter((r) => Number(r.id.slice(-12)) >= 1000);
  assert.deepEqual(
    partition1.map((r) => Number(r.id.slice(-12)) - 1000),
    Array.from({ length: 20 }, (_, i) => i),
  );
});

test('a range of days lists day folders; one bound alone lists everything but still selects by key hour', async (t) => {
  const f = await fixture(t);
  const days = { from: T0 - 2 * 24 * HOUR_MS, to: T0 + 2 * 24 * HOUR_MS };
  const wide = await run(f.store, days);
  assert.deepEqual(ids(wide.records), ids(f.events.filter((e) => matchesFilter(e, days))));
  assert.equal(wide.counts.objectsListed, 13);

  const since = { from: T0 + 4 * HOUR_MS };
  const open = await run(f.store, since);
  assert.deepEqual(ids(open.records), ids(f.events.filter((e) => matchesFilter(e, since))));
  // hours 3 to 6 are selected: 2 + 2 + 2 + 1 objects of the 13 listed
  assert.equal(open.counts.objectsListed, 13);
  assert.equal(open.counts.objectsSelected, 7);
  const until = { to: T0 + HOUR_MS };
  const before = await run(f.store, until);
  assert.deepEqual(ids(before.records), ids(f.events.filter((e) => matchesFilter(e, until))));
  assert.deepEqual(
    before.records.map((r) => r.package_name).filter((p) => p === 'gamma'),
    ['gamma'],
    'the offline event comes through its pointer',
  );
  // hours 0 and 1, and the object the pointer names
  assert.equal(before.counts.objectsSelected, 5);
});

test('a header longer than the first read is read whole, and its summary still prunes', async (t) => {
  const store = new LocalDirStore(await tempDir(t));
  const event = record({ timestamp: T0 + 60_000, package_name: 'alpha' });
  const object = buildArchiveObject({
    topic: 'audit.events',
    partition: 0,
    firstOffset: 0,
    lastOffset: 0,
    bodies: [schemas.reader.type.toBuffer(event)],
    writer: schemas.reader,
    codec: 'deflate',
    prevObjectSha256: CHAIN_START,
    summary: {
      [SUMMARY_META.minTimestamp]: String(event.timestamp),
      [SUMMARY_META.maxTimestamp]: String(event.timestamp),
      [SUMMARY_META.packages]: JSON.stringify(['alpha']),
      'test.padding': 'x'.repeat(HEAD_BYTES + 1000),
    },
  });
  const key = archiveKeyFor({
    prefix: 'events',
    topic: 'audit.events',
    partition: 0,
    firstOffset: 0,
    lastOffset: 0,
    firstRecordTime: T0,
  });
  await store.put(key, object.bytes);
  const hit = await run(store, { packageName: 'alpha' });
  assert.deepEqual(
    hit.records.map((r) => ({ ...r })),
    [event],
  );
  assert.equal(hit.counts.objectsRead, 1);
  const miss = await run(store, { packageName: 'beta' });
  assert.deepEqual(miss.records, []);
  assert.equal(miss.counts.objectsSkipped, 1);
  assert.equal(miss.counts.objectsRead, 0);
});
