import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AuditErrorCode } from '../../common/errors.js';
import { describeKafka, kafkaSettingsFromEnv } from '../../kafka/settings.js';
import { desiredTopics, topicDrift, topicSettingsFromEnv } from '../../kafka/topics.js';
import { tempDir } from '../helpers.js';

test('brokers, TLS and SASL settings are read and validated', async (t) => {
  const dir = await tempDir(t);
  writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\n');
  writeFileSync(join(dir, 'password'), 's3cret\n');
  const settings = kafkaSettingsFromEnv({
    KAFKA_BROKERS: 'b1.example:9093, [2001:db8::1]:9093',
    KAFKA_TLS: 'true',
    KAFKA_TLS_CA_FILE: join(dir, 'ca.pem'),
    KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
    KAFKA_SASL_USERNAME: 'auditor',
    KAFKA_SASL_PASSWORD_FILE: join(dir, 'password'),
  });
  assert.deepEqual(settings.brokers, ['b1.example:9093', '[2001:db8::1]:9093']);
  assert.equal(settings.tls?.ca, '-----BEGIN CERTIFICATE-----\n');
  assert.equal(settings.tls?.rejectUnauthorized, true);
  assert.deepEqual(settings.sasl, {
    mechanism: 'scram-sha-512',
    username: 'auditor',
    password: 's3cret',
  });
  const described = JSON.stringify(describeKafka(settings));
  assert.doesNotMatch(described, /s3cret/, 'the password never appears in what is logged');
  assert.doesNotMatch(described, /BEGIN CERTIFICATE/);
});

const bad: [string, NodeJS.ProcessEnv, string][] = [
  ['no brokers', {}, 'KAFKA_BROKERS'],
  ['broker without port', { KAFKA_BROKERS: 'localhost' }, 'KAFKA_BROKERS'],
  ['port out of range', { KAFKA_BROKERS: 'localhost:70000' }, 'KAFKA_BROKERS'],
  [
    'unknown SASL mechanism',
    { KAFKA_BROKERS: 'h:1', KAFKA_SASL_MECHANISM: 'gssapi' },
    'KAFKA_SASL_MECHANISM',
  ],
  [
    'SASL without user',
    { KAFKA_BROKERS: 'h:1', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_PASSWORD: 'x' },
    'KAFKA_SASL_USERNAME',
  ],
  [
    'SASL without password',
    { KAFKA_BROKERS: 'h:1', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' },
    'KAFKA_SASL_PASSWORD',
  ],
  [
    'SASL credentials without a mechanism (they would be ignored)',
    { KAFKA_BROKERS: 'h:1', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' },
    'KAFKA_SASL_MECHANISM',
  ],
  ['TLS flag not boolean', { KAFKA_BROKERS: 'h:1', KAFKA_TLS: 'maybe' }, 'KAFKA_TLS'],
  [
    'missing CA file',
    { KAFKA_BROKERS: 'h:1', KAFKA_TLS: '1', KAFKA_TLS_CA_FILE: '/nonexistent/ca.pem' },
    'KAFKA_TLS_CA_FILE',
  ],
  [
    'timeout not a number',
    { KAFKA_BROKERS: 'h:1', KAFKA_REQUEST_TIMEOUT_MS: 'soon' },
    'KAFKA_REQUEST_TIMEOUT_MS',
  ],
];
for (const [name, env, field] of bad) {
  test(`kafka settings: ${name} is an error naming ${field}`, () => {
    assert.throws(() => kafkaSettingsFromEnv(env), { code: AuditErrorCode.InvalidOption, field });
  });
}

test('topic settings: defaults fit a single broker and a three-broker cluster', () => {
  const settings = topicSettingsFromEnv({});
  const single = desiredTopics(settings, 1);
  assert.deepEqual(
    single.map((s) => s.name),
    [
      'audit.events',
      'audit.events.dlq',
      'audit.alerts',
      'audit.alerts.ocsf',
      'audit.export.requests',
      'audit.export.results',
      'audit.events.ocsf',
      'audit.events.ecs',
      'audit.events.cef',
      'audit.events.monitor',
    ],
  );
  assert.deepEqual(
    desiredTopics(topicSettingsFromEnv({ AUDIT_TOPIC: 'ev', AUDIT_SIEM_FEED_FORMATS: 'cef' }), 1)
      .map((s) => s.name)
      .filter((name) => name.startsWith('ev.') && !name.endsWith('.dlq')),
    ['ev.cef', 'ev.monitor'],
  );
  assert.equal(
    desiredTopics(topicSettingsFromEnv({ AUDIT_SIEM_FEED_FORMATS: 'none' }), 1).length,
    7,
  );
  assert.equal(single[0]?.replicationFactor, 1);
  assert.equal(single[0]?.configs['min.insync.replicas'], '1');
  assert.equal(single[0]?.configs['cleanup.policy'], 'delete');
  assert.equal(single[0]?.configs['unclean.leader.election.enable'], 'false');
  const cluster = desiredTopics(settings, 5);
  assert.equal(cluster[0]?.replicationFactor, 3);
  assert.equal(cluster[0]?.configs['min.insync.replicas'], '2');
});

test("topic settings: the monitor's keyed topic has its own retention and the events topic's partitions", () => {
  const settings = topicSettingsFromEnv({
    AUDIT_TOPIC_PARTITIONS: '6',
    AUDIT_MONITOR_RETENTION_MS: '-1',
  });
  const keyed = (eventsPartitions?: number) =>
    desiredTopics(settings, 1, eventsPartitions).find((s) => s.name === 'audit.events.monitor');
  assert.equal(keyed()?.partitions, 6);
  assert.equal(keyed(12)?.partitions, 12, 'as many as the existing events topic');
  assert.equal(keyed()?.configs['retention.ms'], '-1');
  assert.equal(keyed()?.configs['cleanup.policy'], 'delete');
  const alerts = desiredTopics(settings, 1, 12).find((s) => s.name === 'audit.alerts.ocsf');
  assert.equal(alerts?.partitions, 6);
  assert.equal(alerts?.configs['retention.ms'], String(30 * 24 * 3600 * 1000));
  assert.equal(
    desiredTopics(topicSettingsFromEnv({}), 1).find((s) => s.name === 'audit.events.monitor')
      ?.configs['retention.ms'],
    String(30 * 24 * 3600 * 1000),
  );
});

test('topic settings: bad values name the setting', () => {
  assert.throws(() => topicSettingsFromEnv({ AUDIT_TOPIC: 'bad topic' }), { field: 'AUDIT_TOPIC' });
  assert.throws(() => topicSettingsFromEnv({ AUDIT_SIEM_FEED_FORMATS: 'ocsf;cef' }), {
    field: 'AUDIT_SIEM_FEED_FORMATS',
  });
  assert.throws(() => topicSettingsFromEnv({ AUDIT_TOPIC_PARTITIONS: '0' }), {
    field: 'AUDIT_TOPIC_PARTITIONS',
  });
  assert.throws(() => topicSettingsFromEnv({ AUDIT_TOPIC_RETENTION_MS: '1000' }), {
    field: 'AUDIT_TOPIC_RETENTION_MS',
  });
  assert.throws(() => topicSettingsFromEnv({ AUDIT_MONITOR_RETENTION_MS: '10' }), {
    field: 'AUDIT_MONITOR_RETENTION_MS',
  });
  assert.throws(() => desiredTopics(topicSettingsFromEnv({ AUDIT_TOPIC_REPLICATION: '3' }), 1), {
    field: 'AUDIT_TOPIC_REPLICATION',
  });
  assert.throws(() => desiredTopics(topicSettingsFromEnv({ AUDIT_TOPIC_MIN_INSYNC: '2' }), 1), {
    field: 'AUDIT_TOPIC_MIN_INSYNC',
  });
});

test('topic drift lists every difference and nothing else', () => {
  const [spec] = desiredTopics(topicSettingsFromEnv({}), 1);
  assert.ok(spec);
  assert.deepEqual(
    topicDrift(spec, { partitions: 6, replicationFactor: 1, configs: { ...spec.configs } }),
    [],
  );
  assert.deepEqual(
    topicDrift(spec, {
      partitions: 3,
      replicationFactor: 1,
      configs: { ...spec.configs, 'cleanup.policy': 'compact', 'retention.ms': undefined },
    }),
    [
      'partitions is 3, expected 6',
      'cleanup.policy is compact, expected delete',
      'retention.ms is (unset), expected 2592000000',
    ],
  );
});
