import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  objectBody,
  objectKey,
  PartitionObjects,
  type ObjectToWrite,
} from '../../bench/clients/objects.js';

const value = (partition: number, offset: number): Buffer => Buffer.from(`${partition}:${offset}`);

/** Feeds `records` (partition, offset) and returns the objects in the order they completed. */
function feed(objects: PartitionObjects, records: [number, number][]): ObjectToWrite[] {
  const out: ObjectToWrite[] = [];
  for (const [partition, offset] of records) {
    const object = objects.add(partition, offset, value(partition, offset));
    if (object !== undefined) out.push(object);
  }
  return out;
}

test('objects of batchEvents values per partition, the last one cut at the end offset, then done', () => {
  const objects = new PartitionObjects(
    new Map([
      [0, 5],
      [1, 2],
    ]),
    2,
  );
  const records: [number, number][] = [
    [0, 0],
    [1, 0],
    [0, 1],
    [0, 2],
    [1, 1],
    [0, 3],
    [0, 4],
  ];
  const written = feed(objects, records);
  assert.deepEqual(
    written.map(({ partition, first, next, values }) => [partition, first, next, values.length]),
    [
      [0, 0, 2, 2],
      [1, 0, 2, 2],
      [0, 2, 4, 2],
      [0, 4, 5, 1],
    ],
  );
  assert.deepEqual(written[0]?.values, [value(0, 0), value(0, 1)]);
  assert.equal(objects.done, true);
});

test('records past the end offset, of unknown or empty partitions, are left out', () => {
  const objects = new PartitionObjects(
    new Map([
      [0, 1],
      [1, 0],
    ]),
    10,
  );
  assert.equal(objects.done, false); // partition 0 has a record; the empty partition 1 is not waited for
  assert.equal(objects.add(1, 0, value(1, 0)), undefined);
  assert.equal(objects.add(7, 0, value(7, 0)), undefined);
  assert.equal(objects.wants(0, 1), false);
  assert.deepEqual(
    feed(objects, [
      [0, 0],
      [0, 1],
      [0, 2],
    ]).length,
    1,
  );
  assert.equal(objects.done, true);
  assert.equal(new PartitionObjects(new Map([[0, 0]]), 10).done, true);
});

test('batchEvents must be a positive integer', () => {
  for (const bad of [0, -1, 1.5, Number.NaN])
    assert.throws(() => new PartitionObjects(new Map(), bad), /batchEvents/);
});

test('the body is each value after its 4-byte length; the key names partition and first offset', () => {
  const body = objectBody([Buffer.from('ab'), Buffer.alloc(0), Buffer.from([0xff])]);
  assert.deepEqual(body, Buffer.from([0, 0, 0, 2, 0x61, 0x62, 0, 0, 0, 0, 0, 0, 0, 1, 0xff]));
  assert.equal(
    objectKey('pre', 'topic', { partition: 3, first: 42, next: 43, values: [] }),
    'pre/topic/3/00000000000000000042.bin',
  );
});
