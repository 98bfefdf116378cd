import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import kafkajs, { type PartitionerArgs } from 'kafkajs';
import { keyPartitioner } from '../../kafka/partitioner.js';

const partitionMetadata = (count: number): PartitionerArgs['partitionMetadata'] =>
  Array.from({ length: count }, (_, partitionId) => ({
    partitionId,
    leader: 1,
    partitionErrorCode: 0,
    replicas: [1],
    isr: [1],
  }));

function keys(): (string | Buffer)[] {
  const out: (string | Buffer)[] = ['', 'a', 'ab', 'abc', 'abcd', 'lodash', '@scope/pkg-name'];
  out.push('é', 'пакет', '包', '😀-emoji', 'x'.repeat(255), 'y'.repeat(256), 'z'.repeat(1000));
  for (let i = 0; i < 2000; i++) {
    const bytes = randomBytes(i % 40);
    out.push(i % 2 === 0 ? bytes : bytes.toString(i % 3 === 0 ? 'latin1' : 'base64'));
  }
  return out;
}

test('keyPartitioner puts every key on the partition kafkajs DefaultPartitioner chooses', () => {
  const ours = keyPartitioner();
  const theirs = kafkajs.Partitioners.DefaultPartitioner();
  for (const count of [1, 3, 6, 7, 64]) {
    const metadata = partitionMetadata(count);
    for (const key of keys()) {
      const args = { topic: 't', partitionMetadata: metadata, message: { key, value: null } };
      assert.equal(ours(args), theirs(args), `key ${JSON.stringify(key)} over ${count} partitions`);
    }
  }
});

test("keyPartitioner keeps a message's own partition, and spreads messages without key", () => {
  const ours = keyPartitioner();
  const metadata = partitionMetadata(6);
  const args = (message: { key?: string | null; partition?: number }) => ({
    topic: 't',
    partitionMetadata: metadata,
    message: { value: null, ...message },
  });
  assert.equal(ours(args({ key: 'lodash', partition: 4 })), 4);
  const seen = new Set<number>();
  for (let i = 0; i < 60; i++) seen.add(ours(args({ key: null })));
  assert.equal(seen.size, 6);
});
