import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  HEADER_EVENT_TYPE,
  HEADER_SCHEMA_FINGERPRINT,
  MessageBuilder,
} from '../../producer/kafka-messages.js';

/** A single-object encoding's shape: C3 01, an 8-byte fingerprint, a body. */
function value(fingerprint: string, body = 'body'): Buffer {
  return Buffer.concat([
    Buffer.from([0xc3, 0x01]),
    Buffer.from(fingerprint, 'hex'),
    Buffer.from(body),
  ]);
}

test('a message carries the key, the value, the append time and the two headers', () => {
  const builder = new MessageBuilder();
  const bytes = value('0102030405060708');
  const message = builder.message('lodash', bytes, 'PackageInstall', 1_767_225_600_123);
  assert.equal(message.key, 'lodash');
  assert.equal(message.value, bytes);
  assert.equal(message.timestamp, '1767225600123');
  assert.deepEqual(message.headers, {
    [HEADER_EVENT_TYPE]: 'PackageInstall',
    [HEADER_SCHEMA_FINGERPRINT]: '0102030405060708',
  });
});

test('headers follow the event type and the fingerprint of each value, whatever came before', () => {
  const builder = new MessageBuilder();
  const cases: [string, string, number][] = [
    ['PackageInstall', '0102030405060708', 1],
    ['PackageInstall', '0102030405060708', 1],
    ['PackageRemove', '0102030405060708', 2],
    ['PackageInstall', '0102030405060709', 2],
    ['PackageInstall', 'ff02030405060708', 3],
    ['PackageRemove', '0102030405060708', 3],
    ['PackageInstall', '0102030405060708', 4],
  ];
  const messages = cases.map(([type, fingerprint, time], i) =>
    builder.message(`k${i}`, value(fingerprint, `v${i}`), type, time),
  );
  cases.forEach(([type, fingerprint, time], i) => {
    const message = messages[i];
    assert.deepEqual(message?.headers, {
      [HEADER_EVENT_TYPE]: type,
      [HEADER_SCHEMA_FINGERPRINT]: fingerprint,
    });
    assert.equal(message?.timestamp, String(time));
  });
  // one headers object for the same type and schema: nothing to build per message
  assert.equal(messages[0]?.headers, messages[1]?.headers);
  assert.ok(Object.isFrozen(messages[0]?.headers));
});
