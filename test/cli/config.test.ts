import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliSettings, effectiveEnv, readConfigFile } from '../../cli/config.js';
import { tempDir } from '../helpers.js';

test('a config file is read under the environment, which wins', async (t) => {
  const path = join(await tempDir(t), 'audit.env');
  writeFileSync(
    path,
    '# the stack\nexport KAFKA_BROKERS=127.0.0.1:9092\nAUDIT_TRANSPORT="kafka"\n\nAUDIT_TOPIC=from-file\n',
  );
  const env = effectiveEnv(path, { AUDIT_TOPIC: 'from-env' });
  const settings = cliSettings(env);
  assert.equal(settings.transport, 'kafka');
  assert.deepEqual(settings.kafka?.brokers, ['127.0.0.1:9092']);
  assert.equal(settings.topics.eventsTopic, 'from-env');
  assert.equal(settings.topics.dlqTopic, 'from-env.dlq');
});

test('config file mistakes name the file, the line and the setting', async (t) => {
  const path = join(await tempDir(t), 'audit.env');
  writeFileSync(path, 'AUDIT_TRANSPORT=kafka\nAUDIT_TRANSPRT=local\n');
  assert.throws(() => readConfigFile(path), {
    field: `${path}:2`,
    message: /unknown setting AUDIT_TRANSPRT/,
  });
  writeFileSync(path, 'just words\n');
  assert.throws(() => readConfigFile(path), { field: `${path}:1` });
  assert.throws(() => readConfigFile(join(path, 'missing')), { field: 'AUDIT_CONFIG' });
});

test('settings are validated by name', () => {
  assert.throws(() => cliSettings({ AUDIT_TRANSPORT: 'carrier-pigeon' }), {
    field: 'AUDIT_TRANSPORT',
  });
  assert.throws(() => cliSettings({ AUDIT_TRANSPORT: 'kafka' }), { field: 'KAFKA_BROKERS' });
  assert.throws(() => cliSettings({ AUDIT_SPOOL_DIR: ' ' }), { field: 'AUDIT_SPOOL_DIR' });
  assert.throws(() => cliSettings({ AUDIT_ARCHIVE_PREFIX: '../x' }), {
    field: 'AUDIT_ARCHIVE_PREFIX',
  });
  assert.equal(cliSettings({}).transport, 'local');
  assert.equal(cliSettings({}).kafka, undefined);
});
