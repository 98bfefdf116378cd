import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeptRecords } from '../../producer/kept-records.js';

interface KeptRecord {
  value: Buffer;
  key: string;
}

function kept(n: number, size = 10): KeptRecord {
  return { value: Buffer.alloc(size, n), key: `k${n}` };
}

const keys = (records: KeptRecord[]): string[] => records.map((r) => r.key);

test('take returns a contiguous run from the offset asked, bounded by count and bytes', () => {
  const records = new KeptRecords<KeptRecord>(1000);
  for (let offset = 5; offset < 15; offset++) records.add(offset, kept(offset));
  assert.deepEqual(keys(records.take(5, 3, 1000)), ['k5', 'k6', 'k7']);
  assert.deepEqual(keys(records.take(12, 10, 1000)), ['k12', 'k13', 'k14']);
  assert.deepEqual(keys(records.take(8, 10, 25)), ['k8', 'k9']);
  // at least one record, even a large one
  assert.deepEqual(keys(records.take(8, 10, 1)), ['k8']);
  assert.deepEqual(records.take(4, 10, 1000), [], 'below what is kept');
  assert.deepEqual(records.take(15, 10, 1000), [], 'past what is kept');
});

test('release forgets acknowledged records; what follows is still taken by offset', () => {
  const records = new KeptRecords<KeptRecord>(1_000_000);
  for (let offset = 0; offset < 10_000; offset++) records.add(offset, kept(offset));
  records.release(9_000);
  assert.equal(records.size, 1000);
  assert.deepEqual(records.take(8_999, 1, 1000), []);
  assert.deepEqual(keys(records.take(9_000, 2, 1000)), ['k9000', 'k9001']);
  records.release(20_000);
  assert.equal(records.size, 0);
});

test('past maxBytes records are not kept, and the next run starts where adding resumes', () => {
  const records = new KeptRecords<KeptRecord>(30);
  for (let offset = 0; offset < 5; offset++) records.add(offset, kept(offset));
  assert.equal(records.size, 3, 'three records of 10 bytes fit');
  assert.deepEqual(keys(records.take(3, 10, 1000)), [], 'offsets 3 and 4 are read from the spool');
  // offset 5 does not follow the kept run (3 and 4 were not kept): not kept while the run is
  records.add(5, kept(5));
  assert.deepEqual(records.take(5, 10, 1000), []);
  assert.deepEqual(keys(records.take(2, 10, 1000)), ['k2']);
  // once the run is acknowledged, a new one starts
  records.release(3);
  records.add(6, kept(6));
  assert.deepEqual(keys(records.take(6, 10, 1000)), ['k6']);
  records.add(7, kept(7));
  assert.deepEqual(keys(records.take(6, 10, 1000)), ['k6', 'k7']);
  assert.deepEqual(records.take(5, 10, 1000), []);
});
