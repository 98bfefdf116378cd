import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeMessages,
  encodeMessages,
  formatSideReport,
  parseSideReport,
  type SideReport,
  type WireMessage,
} from '../../bench/clients/wire.js';
import { simulatedEvents } from '../../bench/kafka/events.js';

test('the messages file gives back the values, keys and headers of the project producer', () => {
  const messages = simulatedEvents(200).messages;
  const decoded = decodeMessages(encodeMessages(messages));
  assert.equal(decoded.length, 200);
  for (const [i, message] of messages.entries())
    assert.deepEqual(decoded[i], {
      key: message.key,
      value: message.value,
      headers: message.headers,
    });
});

test('the messages file keeps any byte of a value, empty values and keys, and no messages', () => {
  const odd: WireMessage[] = [
    { key: '', value: Buffer.alloc(0), headers: {} },
    { key: 'é/ü', value: Buffer.from([0, 255, 10, 13, 0xc3, 0x01]), headers: { a: '' } },
  ];
  assert.deepEqual(decodeMessages(encodeMessages(odd)), odd);
  assert.deepEqual(decodeMessages(encodeMessages([])), []);
});

test('a truncated or overlong messages file is refused, not read short', () => {
  const data = encodeMessages(simulatedEvents(3).messages);
  assert.throws(() => decodeMessages(data.subarray(0, data.length - 1)), /truncated/);
  assert.throws(() => decodeMessages(data.subarray(0, 2)), /truncated at byte 0/);
  assert.throws(() => decodeMessages(Buffer.concat([data, Buffer.from([1])])), /1 bytes after 3/);
});

const REPORT: SideReport = {
  events: 20_000,
  seconds: 1.25,
  objects: 12,
  client: '@platformatic/kafka 2.12.1',
  node: 'v24.22.3',
};

test("a side's report is read from its last tagged line, whatever it printed before", () => {
  const stdout = `connecting\n${formatSideReport({ ...REPORT, events: 1 })}noise\n${formatSideReport(REPORT)}`;
  assert.deepEqual(parseSideReport(stdout), REPORT);
});

test('a side that printed no report, or a report without a valid field, is an error naming it', () => {
  assert.throws(() => parseSideReport('archived 5 events\n'), /printed no report: archived 5/);
  for (const [field, value] of [
    ['events', -1],
    ['events', 'many'],
    ['seconds', 0],
    ['objects', null],
    ['client', ''],
    ['node', 24],
  ] as const)
    assert.throws(
      () => parseSideReport(formatSideReport({ ...REPORT, [field]: value })),
      new RegExp(`no (valid )?${field}`),
      `${field}: ${String(value)}`,
    );
});
