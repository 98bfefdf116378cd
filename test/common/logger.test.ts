import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cliLogger, resolveLogFormat } from '../../common/logger.js';

test('secrets in log fields are redacted', () => {
  const lines: string[] = [];
  const logger = cliLogger('info', { write: (line: string) => void lines.push(line) });
  logger.info({ sasl: { mechanism: 'plain', username: 'u', password: 'hunter2' } }, 'connecting');
  logger.info(
    { kafka: { sasl: { password: 'hunter2' } }, s3: { secretAccessKey: 'AKIASECRET' } },
    'settings',
  );
  logger.warn(
    { password: 'hunter2', token: 'tok-123', privateKey: '-----BEGIN PRIVATE KEY-----' },
    'flat',
  );
  const text = lines.join('');
  assert.equal(lines.length, 3);
  for (const secret of ['hunter2', 'AKIASECRET', 'tok-123', 'PRIVATE KEY'])
    assert.doesNotMatch(text, new RegExp(secret));
  assert.match(text, /\[redacted\]/);
});

test('archive object keys stay visible in logs; private keys, credentials and tokens do not', () => {
  const lines: string[] = [];
  const logger = cliLogger('debug', { write: (line: string) => void lines.push(line) });
  const key =
    'events/dt=2026-01-01/hour=00/audit.events/0/00000000000000000000-00000000000000000099.avro';
  logger.debug({ key, count: 100 }, 'archive object written');
  logger.info(
    {
      privateKey: '-----BEGIN PRIVATE KEY-----',
      credentials: { accessKeyId: 'AKIA', secretAccessKey: 'wJalrSECRET' },
      s3: { credentials: { secretAccessKey: 'wJalrSECRET2' } },
    },
    'settings',
  );
  const text = lines.join('');
  assert.match(text, new RegExp(key.replaceAll('.', '\\.')));
  for (const secret of ['PRIVATE KEY', 'wJalrSECRET'])
    assert.doesNotMatch(text, new RegExp(secret));
});

test('text lines: time, level, message and fields; secrets redacted, no stack traces', () => {
  const lines: string[] = [];
  const logger = cliLogger('info', { write: (line: string) => void lines.push(line) }, 'text');
  const error = new Error('connect ECONNREFUSED 127.0.0.1:1');
  logger.warn(
    {
      topic: 'audit.events',
      pending: 3,
      err: error,
      sasl: { password: 'hunter2' },
      password: 'pw',
    },
    'cannot ship to Kafka, will retry',
  );
  assert.equal(lines.length, 1);
  const line = lines[0] ?? '';
  assert.match(
    line,
    /^\d\d:\d\d:\d\d\.\d{3} WARN {2}cannot ship to Kafka, will retry topic=audit\.events pending=3 err="connect ECONNREFUSED 127\.0\.0\.1:1" sasl=\[redacted\] password=\[redacted\]\n$/,
  );
  assert.doesNotMatch(line, /hunter2|\bpw\b|at .*\.js/);
});

test('the log format auto is text on a terminal and JSON elsewhere', () => {
  assert.equal(resolveLogFormat('auto', true), 'text');
  assert.equal(resolveLogFormat('auto', false), 'json');
  assert.equal(resolveLogFormat('json', true), 'json');
  assert.equal(resolveLogFormat('text', false), 'text');
});
