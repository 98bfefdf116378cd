import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { AuditErrorCode } from '../../common/errors.js';
import { batchPolicy } from '../../consumers/archiver/batch-policy.js';
import { archivedObjects } from '../../consumers/archiver/archive-resume.js';
import { PartitionArchiver } from '../../consumers/archiver/partition-archiver.js';
import type { SourceRecord } from '../../consumers/runtime/record-source.js';
import { LocalDirStore } from '../../consumers/object-store/local-dir-store.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { collect, eventAt, tempDir } from '../helpers.js';

const schemas = auditEventSchemas();
const T0 = Date.UTC(2026, 10, 27, 9, 30);

const sourceRecord = (offset: number): SourceRecord => eventAt(offset, T0);

async function setup(t: TestContext) {
  const store = new LocalDirStore(await tempDir(t));
  const make = () =>
    new PartitionArchiver({
      store,
      prefix: 'events',
      topic: 'audit.events',
      partition: 0,
      schemas,
      policy: batchPolicy({ maxEvents: 1000, maxAgeMs: 60_000 }),
      codec: 'deflate',
      now: () => T0,
    });
  return { store, make };
}

async function fill(archiver: PartitionArchiver, from: number, through: number): Promise<void> {
  for (let offset = from; offset <= through; offset++) await archiver.add(sourceRecord(offset));
}

test('two writers of one partition: the first claim wins, the other is FENCED and writes nothing', async (t) => {
  const { store, make } = await setup(t);
  const stale = make();
  const owner = make();
  await stale.resume();
  await owner.resume();
  await fill(stale, 0, 9); // a member that lost the partition still holds 0..9
  await fill(owner, 0, 19); // the new owner read further
  const written = await owner.flush();
  assert.equal(written?.lastOffset, 19);
  await assert.rejects(stale.flush(), { code: AuditErrorCode.Fenced, retriable: false });
  const objects = await archivedObjects(store, 'events', 'audit.events', 0);
  assert.deepEqual(
    objects.map((o) => [o.firstOffset, o.lastOffset]),
    [[0, 19]],
  );
  assert.deepEqual(await collect(store.list('events/_claims/')), [
    'events/_claims/audit.events/0/00000000000000000000',
  ]);
});

test('a claim of the same range (a retried write) proceeds and rewrites the same bytes', async (t) => {
  const { store, make } = await setup(t);
  const first = make();
  const second = make();
  await first.resume();
  await second.resume();
  await fill(first, 0, 9);
  await fill(second, 0, 9);
  const a = await first.flush();
  const b = await second.flush();
  assert.equal(a?.key, b?.key);
  assert.equal(a?.sha256, b?.sha256);
  assert.equal((await archivedObjects(store, 'events', 'audit.events', 0)).length, 1);
});

test('a claim without its object (a crash between the two) is rebuilt with exactly its range', async (t) => {
  const { store, make } = await setup(t);
  const crashed = make();
  await crashed.resume();
  await fill(crashed, 0, 9);
  // what a crash right after the claim leaves: the claim, no object
  const reference = await crashed.flush();
  assert.ok(reference !== undefined);
  const bytes = await store.get(reference.key);
  await store.delete(reference.key);

  const next = make();
  assert.equal(await next.resume(), 0);
  // more records are available than the claimed range: the batch still closes at 9
  const writtenOnTheWay: (number | undefined)[] = [];
  for (let offset = 0; offset <= 15; offset++)
    writtenOnTheWay.push((await next.add(sourceRecord(offset)))?.lastOffset);
  assert.equal(writtenOnTheWay[9], 9, 'the claimed range is written as soon as it is complete');
  assert.ok((await store.get(reference.key)).equals(bytes), 'the same bytes under the same key');
  const rest = await next.flush();
  assert.deepEqual([rest?.firstOffset, rest?.lastOffset], [10, 15]);
});
