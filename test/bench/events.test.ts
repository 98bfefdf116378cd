import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kafkaKeyFor } from '../../producer/kafka-key.js';
import { recordFromJson } from '../../schemas/record-from-json.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { encodeSingleObject } from '../../schemas/single-object.js';
import {
  batches,
  kcatDelimiter,
  kcatInput,
  ndjson,
  simulatedEvents,
  type BenchMessage,
} from '../../bench/kafka/events.js';

test('the messages of the bench are what the producer sends: the encoded record, its key, its headers', () => {
  const { events, records, messages } = simulatedEvents(50);
  assert.equal(events.length, 50);
  const schemas = auditEventSchemas();
  for (const [i, message] of messages.entries()) {
    const record = records[i]!;
    assert.notEqual(record.source, null); // the simulator's, or SOURCE as AuditTrail fills it in
    assert.deepEqual(message.value, encodeSingleObject(schemas, record));
    assert.equal(message.key, kafkaKeyFor(record));
    assert.equal(message.headers['event_type'], record.event_type);
    assert.equal(
      message.headers['schema_fingerprint'],
      message.value.subarray(2, 10).toString('hex'),
    );
  }
});

test('the NDJSON file reads back into the same records, so produce --from encodes the same bytes', () => {
  const { records, messages } = simulatedEvents(20);
  const lines = ndjson(records).trimEnd().split('\n');
  assert.equal(lines.length, 20);
  const schemas = auditEventSchemas();
  for (const [i, line] of lines.entries())
    assert.deepEqual(
      encodeSingleObject(schemas, recordFromJson(JSON.parse(line))),
      messages[i]!.value,
    );
});

test('batches: at most maxEvents messages and maxBytes of values a request, in order, a big message alone', () => {
  const message = (bytes: number): { value: Buffer } => ({ value: Buffer.alloc(bytes) });
  const input = [message(4), message(4), message(4), message(10), message(1), message(1)];
  const sizes = (max: number, bytes: number): number[][] =>
    batches(input, max, bytes).map((batch) => batch.map((m) => m.value.length));
  assert.deepEqual(sizes(2, 100), [
    [4, 4],
    [4, 10],
    [1, 1],
  ]);
  assert.deepEqual(sizes(10, 8), [[4, 4], [4], [10], [1, 1]]);
  assert.deepEqual(batches([], 2, 8), []);
});

test('kcat input: key, key delimiter, value, message delimiter; delimiters drawn again when they occur in the data', () => {
  const messages: BenchMessage[] = [
    { key: 'left-pad', value: Buffer.from([1, 0xaa, 0xbb, 2]), headers: {}, timestamp: '0' },
    { key: 'lodash', value: Buffer.from([0xcc]), headers: {}, timestamp: '0' },
  ];
  // the first two draws occur in the first value, then come clean ones
  const draws = [[0xaa], [0xbb], [0x01, 0x02], [0xfe, 0xff]].map((bytes) => Buffer.from(bytes));
  const input = kcatInput(messages, () => draws.shift()!);
  assert.deepEqual(input.keyDelimiter, Buffer.from([0x01, 0x02]));
  assert.deepEqual(input.messageDelimiter, Buffer.from([0xfe, 0xff]));
  assert.deepEqual(
    input.data,
    Buffer.concat([
      Buffer.from('left-pad'),
      Buffer.from([0x01, 0x02, 1, 0xaa, 0xbb, 2, 0xfe, 0xff]),
      Buffer.from('lodash'),
      Buffer.from([0x01, 0x02, 0xcc, 0xfe, 0xff]),
    ]),
  );
  assert.equal(kcatDelimiter(Buffer.from([0x01, 0xfe])), '\\x01\\xfe');
  assert.throws(() => kcatInput(messages, () => Buffer.from([0xaa])), /no delimiters found/);
});
