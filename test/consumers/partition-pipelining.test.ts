import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { batchPolicy } from '../../consumers/archiver/batch-policy.js';
import {
  PartitionArchiver,
  type WrittenObject,
} from '../../consumers/archiver/partition-archiver.js';
import { LocalDirStore } from '../../consumers/object-store/local-dir-store.js';
import type { SourceRecord } from '../../consumers/runtime/record-source.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { collect, eventAt, tempDir } from '../helpers.js';

const schemas = auditEventSchemas();
const T0 = Date.UTC(2026, 10, 27, 9, 30);

const sourceRecord = (offset: number): SourceRecord =>
  eventAt(offset, T0, { package_name: `pkg-${offset % 3}` });

/** A local store whose object writes wait until `release()` (claims and reads go through). */
class GatedStore extends LocalDirStore {
  private open: () => void = () => undefined;
  private readonly gate = new Promise<void>((resolve) => (this.open = resolve));
  objectPuts = 0;
  override async put(key: string, bytes: Buffer): Promise<void> {
    if (key.endsWith('.avro')) {
      this.objectPuts++;
      await this.gate;
    }
    return super.put(key, bytes);
  }
  release(): void {
    this.open();
  }
}

async function archiverOn(
  t: TestContext,
  objectsInFlight: number,
): Promise<{ store: GatedStore; archiver: PartitionArchiver; written: WrittenObject[] }> {
  const store = new GatedStore(await tempDir(t));
  const written: WrittenObject[] = [];
  const archiver = new PartitionArchiver({
    store,
    prefix: 'events',
    topic: 'audit.events',
    partition: 0,
    schemas,
    policy: batchPolicy({ maxEvents: 10 }),
    codec: 'deflate',
    now: () => T0,
    objectsInFlight,
    onWritten: (object) => written.push(object),
  });
  await archiver.resume();
  return { store, archiver, written };
}

/**
 * Lets the thread pool and the store's file writes run until the oldest
 * object's put has reached the gated store (however slow the machine), then a
 * little longer, so that anything that should not happen has had the chance to.
 */
async function settle(store: GatedStore): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (store.objectPuts === 0) {
    if (Date.now() > deadline) throw new Error('no object put reached the store within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  await yieldToLoop();
}

test('full batches are written while the partition reads on; offsets count as archived only once written', async (t) => {
  const { store, archiver, written } = await archiverOn(t, 2);
  for (let offset = 0; offset < 25; offset++) await archiver.add(sourceRecord(offset));
  await settle(store);
  // two objects sealed: the first waits on the store, the second waits for it (writes go in
  // offset order); the third batch is open
  assert.equal(store.objectPuts, 1);
  assert.equal(archiver.objectsPending, 2);
  assert.equal(archiver.accountedThrough, 24);
  assert.equal(archiver.archivedBelow, 0, 'nothing is archived before its object is written');
  assert.equal(written.length, 0);
  store.release();
  await archiver.settled();
  assert.equal(archiver.archivedBelow, 20);
  assert.deepEqual(
    written.map((o) => [o.firstOffset, o.lastOffset]),
    [
      [0, 9],
      [10, 19],
    ],
  );
  const flushed = await archiver.flush();
  assert.deepEqual([flushed?.firstOffset, flushed?.lastOffset], [20, 24]);
  assert.equal(archiver.archivedBelow, 25);
  assert.equal(written.length, 3, 'the flushed object is reported too');
});

test('a partition with objectsInFlight objects waiting takes no record that would seal one more (backpressure)', async (t) => {
  const { store, archiver } = await archiverOn(t, 2);
  for (let offset = 0; offset < 29; offset++) await archiver.add(sourceRecord(offset));
  let third = false;
  const filling = Promise.resolve(archiver.add(sourceRecord(29))).then(() => (third = true));
  await settle(store);
  assert.equal(third, false, 'the record that fills a third batch waits for the oldest write');
  assert.equal(archiver.objectsPending, 2);
  store.release();
  await filling;
  await archiver.flush();
  assert.equal(archiver.archivedBelow, 30);
});

test('pipelined objects have the very bytes and keys of objects written one at a time', async (t) => {
  const serial = await archiverOn(t, 1);
  const pipelined = await archiverOn(t, 3);
  serial.store.release();
  pipelined.store.release();
  for (const { archiver } of [serial, pipelined]) {
    for (let offset = 0; offset < 47; offset++) await archiver.add(sourceRecord(offset));
    await archiver.flush();
  }
  const objects = async (store: GatedStore) => {
    const keys = await collect(store.list('events/dt='));
    return Promise.all(keys.map(async (key) => [key, (await store.get(key)).toString('hex')]));
  };
  const expected = await objects(serial.store);
  assert.equal(expected.length, 5);
  assert.deepEqual(await objects(pipelined.store), expected);
  assert.deepEqual(
    pipelined.written.map((o) => o.sha256),
    serial.written.map((o) => o.sha256),
  );
});
