import assert from 'node:assert/strict';
import { test } from 'node:test';
import kafkajs from 'kafkajs';
import { AuditError, AuditErrorCode, isConfigurationFault } from '../../common/errors.js';
import { kafkaError } from '../../kafka/errors.js';

const {
  KafkaJSConnectionError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
  KafkaJSSASLAuthenticationError,
  KafkaJSAggregateError,
  KafkaJSTimeout,
} = kafkajs;

/** kafkajs' types declare no message for its timeouts, but the class takes one */
function timeout(message: string): Error {
  return Reflect.construct(KafkaJSTimeout, [message]) as Error;
}

const context = { operation: 'produce to', topic: 'audit.events', brokers: ['127.0.0.1:1'] };

function protocolError(type: string, retriable = false): Error {
  // the shape kafkajs gives a broker's error code
  return new KafkaJSProtocolError({
    message: `broker says ${type}`,
    type,
    code: 0,
    retriable,
  } as never);
}

const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:1', {
  broker: '127.0.0.1:1',
  code: 'ECONNREFUSED',
});

const CASES: [string, unknown, AuditErrorCode, boolean][] = [
  ['connection refused', refused, AuditErrorCode.Unavailable, true],
  [
    'retries exhausted on a refused connection',
    new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 5, retryTime: 100 }),
    AuditErrorCode.Unavailable,
    true,
  ],
  [
    'request timeout',
    new KafkaJSRequestTimeoutError('Request Produce(key: 0, version: 7) timed out'),
    AuditErrorCode.Unavailable,
    true,
  ],
  [
    'metadata timeout',
    timeout('Timeout while fetching metadata'),
    AuditErrorCode.Unavailable,
    true,
  ],
  [
    'a plain socket error',
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
    AuditErrorCode.Unavailable,
    true,
  ],
  [
    'SASL authentication',
    Reflect.construct(KafkaJSSASLAuthenticationError, [
      'SASL SCRAM SHA256 authentication failed: invalid credentials',
    ]) as Error,
    AuditErrorCode.AuthFailed,
    false,
  ],
  ['topic ACL', protocolError('TOPIC_AUTHORIZATION_FAILED'), AuditErrorCode.AuthFailed, false],
  ['group ACL', protocolError('GROUP_AUTHORIZATION_FAILED'), AuditErrorCode.AuthFailed, false],
  ['cluster ACL', protocolError('CLUSTER_AUTHORIZATION_FAILED'), AuditErrorCode.AuthFailed, false],
  [
    'an ACL refusal inside an aggregate',
    new KafkaJSAggregateError('topic creation failed', [
      protocolError('TOPIC_AUTHORIZATION_FAILED'),
    ]),
    AuditErrorCode.AuthFailed,
    false,
  ],
  [
    'a retriable refusal',
    protocolError('LEADER_NOT_AVAILABLE', true),
    AuditErrorCode.Unavailable,
    true,
  ],
  ['a final refusal', protocolError('INVALID_TOPIC_EXCEPTION'), AuditErrorCode.Unavailable, false],
  ['a bug', new TypeError('x is not a function'), AuditErrorCode.InvalidState, false],
];

for (const [name, error, code, retriable] of CASES) {
  test(`kafkaError: ${name} -> ${code}${retriable ? ' (retriable)' : ''}`, () => {
    const mapped = kafkaError(error, context);
    assert.equal(mapped.code, code);
    assert.equal(mapped.retriable, retriable);
    assert.equal(mapped.cause, error);
    assert.match(mapped.message, /127\.0\.0\.1:1/);
    assert.match(mapped.message, /produce to audit\.events/);
    assert.doesNotMatch(mapped.message, /\n/);
  });
}

test('kafkaError names every configured broker when the error names none, and the group', () => {
  const mapped = kafkaError(timeout('Timeout'), {
    operation: 'read the offsets of',
    topic: 'audit.events',
    group: 'audit-archiver',
    brokers: ['k1:9092', 'k2:9092'],
  });
  assert.equal(
    mapped.message,
    'cannot reach Kafka brokers k1:9092, k2:9092 (read the offsets of audit.events, group audit-archiver): Timeout',
  );
});

test('kafkaError leaves an AuditError as it is', () => {
  const original = new AuditError(AuditErrorCode.SpoolFull, 'full', { retriable: true });
  assert.equal(kafkaError(original, context), original);
});

test('an authentication failure is a configuration fault: no retry heals it', () => {
  const mapped = kafkaError(protocolError('TOPIC_AUTHORIZATION_FAILED'), context);
  assert.ok(isConfigurationFault(mapped));
  assert.ok(!isConfigurationFault(kafkaError(refused, context)));
});
