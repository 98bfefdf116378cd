/**
 * Component options are checked at construction: a bad value is a ConfigError
 * (INVALID_OPTION) whose field names the option, and a secret is never echoed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Kafka } from 'kafkajs';
import { AuditErrorCode } from '../../common/errors.js';
import {
  S3_STORE_DEFAULTS,
  S3Store,
  type S3StoreOptions,
} from '../../consumers/object-store/s3-store.js';
import {
  KAFKA_TRANSPORT_DEFAULTS,
  KafkaTransport,
  type KafkaTransportOptions,
} from '../../producer/kafka-transport.js';

const badS3: [string, Partial<S3StoreOptions>, string][] = [
  ['an empty bucket', { bucket: '' }, 'S3Store.bucket'],
  ['an endpoint that is not a URL', { endpoint: 'localhost:9000' }, 'S3Store.endpoint'],
  ['a blank region', { region: ' ' }, 'S3Store.region'],
  [
    'an empty secret key',
    { credentials: { accessKeyId: 'k', secretAccessKey: '' } },
    'S3Store.credentials.secretAccessKey',
  ],
  [
    'an unknown encryption',
    { serverSideEncryption: 'rot13' as 'AES256' },
    'S3Store.serverSideEncryption',
  ],
  [
    'an unknown lock mode',
    { objectLock: { mode: 'FOREVER' as 'COMPLIANCE', days: 1 } },
    'S3Store.objectLock.mode',
  ],
  ['zero lock days', { objectLock: { mode: 'COMPLIANCE', days: 0 } }, 'S3Store.objectLock.days'],
  ['fractional attempts', { attempts: 1.5 }, 'S3Store.attempts'],
  [
    'a negative multipart threshold',
    { multipartThresholdBytes: -1 },
    'S3Store.multipartThresholdBytes',
  ],
];
for (const [name, options, field] of badS3) {
  test(`S3Store refuses ${name}, naming ${field}`, () => {
    assert.throws(() => new S3Store({ bucket: 'b', ...options }), {
      code: AuditErrorCode.InvalidOption,
      field,
    });
  });
}

test('S3Store never echoes a secret it refuses', () => {
  assert.throws(
    () => new S3Store({ bucket: 'b', credentials: { accessKeyId: '', secretAccessKey: 's3cr3t' } }),
    (error: Error) => !error.message.includes('s3cr3t'),
  );
});

test('S3Store defaults are the documented ones', () => {
  assert.deepEqual(S3_STORE_DEFAULTS, {
    region: 'us-east-1',
    multipartThresholdBytes: 16 * 1024 * 1024,
    attempts: 4,
  });
  new S3Store({ bucket: 'b' }).close();
});

const kafka = {} as Kafka;
const badTransport: [string, Partial<KafkaTransportOptions>, string][] = [
  ['no spool folder', { spoolDir: '' }, 'KafkaTransport.spoolDir'],
  ['an empty topic', { topic: '' }, 'KafkaTransport.topic'],
  ['zero events per batch', { batchMaxEvents: 0 }, 'KafkaTransport.batchMaxEvents'],
  ['fractional batch bytes', { batchMaxBytes: 0.5 }, 'KafkaTransport.batchMaxBytes'],
  ['a negative linger', { lingerMs: -1 }, 'KafkaTransport.lingerMs'],
  ['no acknowledgement time', { ackTimeoutMs: 0 }, 'KafkaTransport.ackTimeoutMs'],
  ['no close time', { closeTimeoutMs: Number.NaN }, 'KafkaTransport.closeTimeoutMs'],
  ['an unknown compression', { compression: 'zstd' as 'gzip' }, 'KafkaTransport.compression'],
];
for (const [name, options, field] of badTransport) {
  test(`KafkaTransport refuses ${name}, naming ${field}`, () => {
    assert.throws(() => new KafkaTransport({ kafka, spoolDir: '/nonexistent/spool', ...options }), {
      code: AuditErrorCode.InvalidOption,
      field,
    });
  });
}

test('KafkaTransport sends to the default events topic', () => {
  assert.equal(KAFKA_TRANSPORT_DEFAULTS.topic, 'audit.events');
});
