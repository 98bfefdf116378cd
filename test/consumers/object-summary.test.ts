import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { classifyArchiveKey } from '../../consumers/archiver/archive-key.js';
import { batchPolicy } from '../../consumers/archiver/batch-policy.js';
import { PartitionArchiver } from '../../consumers/archiver/partition-archiver.js';
import {
  BloomFilter,
  HOUR_MS,
  hoursToList,
  latePointerKey,
  ObjectSummaryBuilder,
  parseLatePointerKey,
  parseObjectSummary,
  SUMMARY_META,
} from '../../consumers/archiver/object-summary.js';
import { verifyArchive } from '../../consumers/archiver/verify.js';
import { PartitionDigester } from '../../consumers/archiver/digester.js';
import { LocalDirStore } from '../../consumers/object-store/local-dir-store.js';
import { decodeContainerHeader } from '../../schemas/container.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { encodeSingleObject } from '../../schemas/single-object.js';
import { collect, logRecord, record, tempDir } from '../helpers.js';

const T0 = Date.UTC(2026, 10, 27, 9, 30);
const DAY = 24 * HOUR_MS;

test('a summary lists the packages and the time range; parsed back it tells what an object may hold', () => {
  const builder = new ObjectSummaryBuilder();
  builder.add({ timestamp: T0 + 5, package_name: 'b' });
  builder.add({ timestamp: T0, package_name: 'a' });
  builder.add({ timestamp: T0 + 9, package_name: null });
  const metadata = builder.metadata(T0 - (T0 % HOUR_MS));
  assert.equal(metadata[SUMMARY_META.packages], '["a","b"]');
  assert.equal(metadata[SUMMARY_META.lateHours], undefined);
  const summary = parseObjectSummary(metadata);
  assert.ok(summary !== undefined);
  assert.equal(summary.minTimestamp, T0);
  assert.equal(summary.maxTimestamp, T0 + 9);
  assert.equal(summary.mayHoldPackage('a'), true);
  assert.equal(summary.mayHoldPackage('c'), false);
  assert.deepEqual(new ObjectSummaryBuilder().metadata(0), {});
});

test('many packages go into a Bloom filter: no false negative, few false positives', () => {
  const builder = new ObjectSummaryBuilder();
  const names = Array.from({ length: 2000 }, (_, i) => `package-${i}`);
  for (const name of names) builder.add({ timestamp: T0, package_name: name });
  const metadata = builder.metadata(T0);
  assert.equal(metadata[SUMMARY_META.packages], undefined);
  const summary = parseObjectSummary(metadata);
  assert.ok(summary !== undefined);
  for (const name of names) assert.equal(summary.mayHoldPackage(name), true, name);
  const positives = Array.from({ length: 10_000 }, (_, i) => `other-${i}`).filter((n) =>
    summary.mayHoldPackage(n),
  ).length;
  assert.ok(positives < 300, `${positives} false positives of 10000 (1% expected)`);
  assert.equal(BloomFilter.decode('3:100:AAAA'), undefined, 'bit array of the wrong size');
});

test('a header without a readable summary says nothing: the object is read', () => {
  assert.equal(parseObjectSummary({}), undefined);
  assert.equal(
    parseObjectSummary({
      [SUMMARY_META.minTimestamp]: '5',
      [SUMMARY_META.maxTimestamp]: '4',
      [SUMMARY_META.packages]: '[]',
    }),
    undefined,
  );
  assert.equal(
    parseObjectSummary({
      [SUMMARY_META.minTimestamp]: '1',
      [SUMMARY_META.maxTimestamp]: '4',
      [SUMMARY_META.packages]: '{not json',
    }),
    undefined,
  );
});

test('late pointers: event hours more than an hour from the key hour, keys parsed and classified strictly', () => {
  const keyHour = Date.UTC(2026, 10, 27, 9);
  const builder = new ObjectSummaryBuilder();
  for (const offset of [-3 * DAY, -2 * HOUR_MS, -HOUR_MS, 0, HOUR_MS, 2 * HOUR_MS])
    builder.add({ timestamp: keyHour + offset + 7, package_name: 'p' });
  assert.deepEqual(builder.farHours(keyHour), [
    keyHour - 3 * DAY,
    keyHour - 2 * HOUR_MS,
    keyHour + 2 * HOUR_MS,
  ]);
  const object =
    'events/dt=2026-11-27/hour=09/audit.events/0/00000000000000000000-00000000000000000009.avro';
  const pointer = latePointerKey('events', keyHour - 3 * DAY, object);
  assert.equal(
    pointer,
    'events/_late/dt=2026-11-24/hour=09/dt=2026-11-27/hour=09/audit.events/0/00000000000000000000-00000000000000000009.avro',
  );
  assert.deepEqual(parseLatePointerKey('events', pointer), {
    eventHour: keyHour - 3 * DAY,
    objectKey: object,
  });
  assert.deepEqual(classifyArchiveKey('events', pointer), {
    kind: 'late',
    eventHour: keyHour - 3 * DAY,
    objectKey: object,
  });
  for (const bad of [
    'events/_late/dt=2026-11-24/hour=09/x/dt=2026-11-27/hour=09/audit.events/0/00000000000000000000-00000000000000000009.avro',
    'events/_late/dt=2026-11-24/hour=9/dt=2026-11-27/hour=09/audit.events/0/00000000000000000000-00000000000000000009.avro',
    'events/_late/dt=2026-11-24/hour=09/dt=2026-11-27/hour=09/audit.events/0/0-9.avro',
  ])
    assert.deepEqual(classifyArchiveKey('events', bad), { kind: 'foreign' }, bad);
});

test('the hours to list for a range: key hours with a neighbour on each side, late hours exactly', () => {
  const h = Date.UTC(2026, 10, 27, 9);
  assert.deepEqual(hoursToList(h + 10, h + HOUR_MS), {
    keyHours: [h - HOUR_MS, h, h + HOUR_MS],
    lateHours: [h],
  });
  assert.deepEqual(hoursToList(h, h + 2 * HOUR_MS).lateHours, [h, h + HOUR_MS]);
});

const signing = generateKeyPairSync('ed25519');

async function archiveWithLateEvents(t: TestContext) {
  const store = new LocalDirStore(await tempDir(t));
  const schemas = auditEventSchemas();
  const archiver = new PartitionArchiver({
    store,
    prefix: 'events',
    topic: 'audit.events',
    partition: 0,
    schemas,
    policy: batchPolicy({ maxEvents: 10 }),
    codec: 'deflate',
    digester: new PartitionDigester({
      store,
      prefix: 'events',
      topic: 'audit.events',
      partition: 0,
      signingKey: signing.privateKey,
      intervalMs: HOUR_MS,
    }),
  });
  await archiver.resume();
  const now = Date.now();
  for (let offset = 0; offset < 10; offset++) {
    // events 0..2 come from an installer that was offline for three days
    const timestamp = offset < 3 ? now - 3 * DAY : now;
    const id = `0190b6a2-7c3e-7d4a-9b1e-${String(offset).padStart(12, '0')}`;
    await archiver.add(
      logRecord({
        offset,
        timestamp: now,
        value: encodeSingleObject(
          schemas,
          record({ id, timestamp, package_name: `p${offset % 2}` }),
        ),
      }),
    );
  }
  await archiver.closeDigests();
  return { store, now };
}

test('the archiver writes the summary into each object and a late pointer for far event hours; verify reports a deleted or planted pointer', async (t) => {
  const { store, now } = await archiveWithLateEvents(t);
  const [object] = await collect(store.list('events/dt='));
  assert.ok(object !== undefined);
  const metadata = decodeContainerHeader(await store.get(object)).header.metadata;
  assert.equal(metadata[SUMMARY_META.packages], '["p0","p1"]');
  assert.equal(metadata[SUMMARY_META.minTimestamp], String(now - 3 * DAY));
  const pointers = await collect(store.list('events/_late/'));
  const early = now - 3 * DAY;
  assert.deepEqual(pointers, [latePointerKey('events', early - (early % HOUR_MS), object)]);
  const verifyOptions = {
    prefix: 'events',
    publicKey: signing.publicKey,
    expected: ['audit.events/0'],
  };
  assert.deepEqual((await verifyArchive(store, verifyOptions)).problems, []);

  await store.delete(pointers[0] as string);
  const deleted = await verifyArchive(store, verifyOptions);
  assert.deepEqual(
    deleted.problems.map((p) => [p.kind, p.key]),
    [['missing-late-pointer', pointers[0]]],
  );

  await store.put(pointers[0] as string, Buffer.alloc(0));
  const planted = latePointerKey('events', early - 5 * DAY - (early % HOUR_MS), object);
  await store.put(planted, Buffer.alloc(0));
  const forged = await verifyArchive(store, verifyOptions);
  assert.deepEqual(
    forged.problems.map((p) => [p.kind, p.key]),
    [['foreign', planted]],
  );
});
