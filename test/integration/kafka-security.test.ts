import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { readConfigFile } from '../../cli/config.js';
import { tempDir } from '../helpers.js';
import { createTopics, MAIN, ROOT } from './stack.js';

/** The SASL listener of the local stack (scripts/stack.ts writes its settings). */
function saslListener(): Record<string, string> {
  return readConfigFile(join(ROOT, '.stack/sasl.env'));
}

for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512']) {
  test(`emit authenticates with SASL ${mechanism.toUpperCase()} and the broker acknowledges`, async (t) => {
    const { topic } = await createTopics(t, 1);
    const sasl = saslListener();
    const result = spawnSync(
      process.execPath,
      [
        MAIN,
        'emit',
        '--type',
        'ConfigurationChange',
        '--detail',
        'setting=auth.test',
        '--wait',
        '20000',
      ],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          ...sasl,
          AUDIT_TRANSPORT: 'kafka',
          AUDIT_TOPIC: topic,
          AUDIT_SPOOL_DIR: await tempDir(t),
          KAFKA_SASL_MECHANISM: mechanism,
          AUDIT_LOG_LEVEL: 'debug',
        },
      },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^acknowledged 1 event [0-9a-f-]{36} by Kafka/);
    assert.doesNotMatch(
      result.stdout + result.stderr,
      new RegExp(sasl['KAFKA_SASL_PASSWORD'] ?? 'unset'),
      'the password is never logged',
    );
  });
}

test('the SASL settings file of the stack is complete: a client configured from it alone authenticates', async (t) => {
  const { topic } = await createTopics(t, 1);
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('KAFKA_')) delete env[name];
  const result = spawnSync(
    process.execPath,
    [
      MAIN,
      'emit',
      '--config',
      join(ROOT, '.stack/sasl.env'),
      '--type',
      'ConfigurationChange',
      '--wait',
      '20000',
    ],
    {
      encoding: 'utf8',
      env: {
        ...env,
        AUDIT_TRANSPORT: 'kafka',
        AUDIT_TOPIC: topic,
        AUDIT_SPOOL_DIR: await tempDir(t),
      },
    },
  );
  assert.equal(result.status, 0, result.stderr);
  assert.match(saslListener()['KAFKA_SASL_MECHANISM'] ?? '', /^scram-sha-512$/);
});

test('a wrong SASL password is reported, the event stays queued, and the password is not printed', async (t) => {
  const { topic } = await createTopics(t, 1);
  const spoolDir = await tempDir(t);
  const wrong = 'definitely-not-the-password';
  const result = spawnSync(
    process.execPath,
    [MAIN, 'emit', '--type', 'ConfigurationChange', '--wait', '3000'],
    {
      encoding: 'utf8',
      env: {
        ...process.env,
        ...saslListener(),
        KAFKA_SASL_PASSWORD: wrong,
        KAFKA_SASL_MECHANISM: 'scram-sha-256',
        AUDIT_TRANSPORT: 'kafka',
        AUDIT_TOPIC: topic,
        AUDIT_SPOOL_DIR: spoolDir,
        AUDIT_LOG_LEVEL: 'debug',
      },
    },
  );
  assert.equal(result.status, 1);
  assert.match(
    result.stderr,
    /AUTH_FAILED: Kafka broker \S+ refused the client \(produce to [\w.-]+\): .*SASL.*; 1 events not yet acknowledged by Kafka after 3000 ms/i,
  );
  assert.match(result.stderr, /they stay in the spool/);
  assert.doesNotMatch(result.stdout + result.stderr, new RegExp(wrong));
});

test('topics ensure with a wrong SASL password fails at once with AUTH_FAILED, not UNAVAILABLE', async (t) => {
  const wrong = 'not-the-password-either';
  const started = Date.now();
  const result = spawnSync(process.execPath, [MAIN, 'topics', 'ensure'], {
    encoding: 'utf8',
    cwd: await tempDir(t),
    env: {
      ...process.env,
      ...saslListener(),
      KAFKA_SASL_PASSWORD: wrong,
      AUDIT_TRANSPORT: 'kafka',
      AUDIT_LOG_LEVEL: 'warn',
    },
  });
  assert.equal(result.status, 1, result.stderr);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, result.stderr);
  assert.match(
    lines[0] ?? '',
    /^audit-trail: AUTH_FAILED: Kafka broker \S+ refused the client \(ensure topics\): .*SASL/,
  );
  assert.ok(Date.now() - started < 10_000, 'a refused login is not retried');
  assert.doesNotMatch(result.stdout + result.stderr, new RegExp(wrong));
});

function tlsListener(): Record<string, string> {
  return readConfigFile(join(ROOT, '.stack/tls.env'));
}

test('emit over TLS (server certificate checked against the CA file) with SASL SCRAM-SHA-512', async (t) => {
  const { topic } = await createTopics(t, 1);
  const result = spawnSync(
    process.execPath,
    [MAIN, 'emit', '--type', 'IntegrityCheck', '--package', 'openssl', '--wait', '20000'],
    {
      encoding: 'utf8',
      env: {
        ...process.env,
        ...tlsListener(),
        AUDIT_TRANSPORT: 'kafka',
        AUDIT_TOPIC: topic,
        AUDIT_SPOOL_DIR: await tempDir(t),
      },
    },
  );
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^acknowledged 1 event/);
});

test('TLS without the CA file does not trust the development certificate', async (t) => {
  const { topic } = await createTopics(t, 1);
  const withoutCa = tlsListener();
  delete withoutCa['KAFKA_TLS_CA_FILE'];
  const result = spawnSync(
    process.execPath,
    [MAIN, 'emit', '--type', 'IntegrityCheck', '--package', 'openssl', '--wait', '15000'],
    {
      encoding: 'utf8',
      env: {
        ...process.env,
        ...withoutCa,
        AUDIT_TRANSPORT: 'kafka',
        AUDIT_TOPIC: topic,
        AUDIT_SPOOL_DIR: await tempDir(t),
      },
    },
  );
  assert.equal(result.status, 1);
  assert.match(
    result.stderr,
    /UNAVAILABLE: cannot reach Kafka broker .*(certificate|self.signed)/i,
  );
});
