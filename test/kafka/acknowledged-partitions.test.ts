import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RecordMetadata } from 'kafkajs';
import { AuditErrorCode } from '../../common/errors.js';
import { AcknowledgedPartitions, unacknowledged } from '../../kafka/acknowledged-partitions.js';
import { keyPartitioner } from '../../kafka/partitioner.js';

const answer = (topicName: string, partition: number): RecordMetadata => ({
  topicName,
  partition,
  errorCode: 0,
});

test('the partitions a send addressed that its answers leave out are unacknowledged', () => {
  const addressed = new Map([
    ['a', new Set([0, 1, 2, 3])],
    ['b', new Set([0])],
  ]);
  assert.deepEqual(
    [...unacknowledged(addressed, [answer('a', 1), answer('a', 2), answer('b', 0)])],
    [['a', [0, 3]]],
  );
  assert.deepEqual(
    [
      ...unacknowledged(addressed, [
        answer('a', 0),
        answer('a', 1),
        answer('a', 2),
        answer('a', 3),
        answer('b', 0),
      ]),
    ],
    [],
  );
  // an answer for the same partition number of another topic is not one for this topic
  assert.deepEqual(
    [...unacknowledged(new Map([['a', new Set([5])]]), [answer('b', 5)])],
    [['a', [5]]],
  );
});

/** What kafkajs does with the partitioner of a producer: one choice per message and attempt. */
function route(
  partitioner: ReturnType<ReturnType<AcknowledgedPartitions['partitioner']>>,
  topic: string,
  keys: readonly string[],
): number[] {
  const partitionMetadata = Array.from({ length: 6 }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: partitionId % 3,
    replicas: [0, 1, 2],
    isr: [0, 1, 2],
  }));
  return keys.map((key) => partitioner({ topic, partitionMetadata, message: { key, value: 'v' } }));
}

test('a send whose answers leave out a partition it addressed is UNAVAILABLE, retriable, naming the partitions; a complete one resolves', async () => {
  const acknowledged = new AcknowledgedPartitions();
  const partitioner = acknowledged.partitioner(keyPartitioner)();
  const keys = Array.from({ length: 60 }, (_, i) => `pkg-${i}`);
  const chosen = new Set(route(partitioner, 't', keys));
  assert.ok(chosen.size >= 4, 'the keys spread over the partitions');

  // as kafkajs after a leader change: two attempts route the messages, the answers lack one partition
  const short = acknowledged.checked(() => {
    route(partitioner, 't', keys);
    route(partitioner, 't', keys);
    return Promise.resolve([...chosen].slice(1).map((p) => answer('t', p)));
  });
  const left = [...chosen][0] as number;
  await assert.rejects(short, (error: Error & { code?: string; retriable?: boolean }) => {
    assert.equal(error.code, AuditErrorCode.Unavailable);
    assert.equal(error.retriable, true);
    assert.match(error.message, new RegExp(`t partitions ${left}\\b`));
    return true;
  });

  const complete = await acknowledged.checked(() => {
    route(partitioner, 't', keys);
    return Promise.resolve([...chosen].map((p) => answer('t', p)));
  });
  assert.equal(complete.length, chosen.size);
  // choices made outside a checked send are not held against the next one
  route(partitioner, 'other', keys);
  const [only] = route(partitioner, 't', ['pkg-0']);
  await acknowledged.checked(() => {
    route(partitioner, 't', ['pkg-0']);
    return Promise.resolve([answer('t', only as number)]);
  });
});

test('checked sends of one producer run one after the other, each with its own partitions', async () => {
  const acknowledged = new AcknowledgedPartitions();
  const partitioner = acknowledged.partitioner(keyPartitioner)();
  let release: () => void = () => undefined;
  const first = acknowledged.checked(async () => {
    const partitions = route(partitioner, 't', ['pkg-1']);
    await new Promise<void>((resolve) => (release = resolve));
    return partitions.map((p) => answer('t', p));
  });
  let secondStarted = false;
  const second = acknowledged.checked(() => {
    secondStarted = true;
    return Promise.resolve(route(partitioner, 'u', ['pkg-2']).map((p) => answer('u', p)));
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(secondStarted, false, 'the second send waits for the first');
  release();
  await first;
  await second;
  assert.equal(secondStarted, true);
});
