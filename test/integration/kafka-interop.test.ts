import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { KafkaTransport } from '../../producer/kafka-transport.js';
import { AuditTrail } from '../../producer/audit-trail.js';
import { AuditEvent } from '../../producer/audit-event.js';
import { AuditEventType } from '../../schemas/event-type.js';
import { GroupConsumer } from '../../consumers/runtime/group-consumer.js';
import { DLQ_HEADERS } from '../../consumers/runtime/kafka-dead-letters.js';
import { silentLogger } from '../../common/logger.js';
import { tempDir } from '../helpers.js';
import {
  brokers,
  committingConsumer,
  consumeEvents,
  createTopics,
  kafkaClient,
  ROOT,
} from './stack.js';

function kcat(args: string[], input?: string | Buffer): Buffer {
  const result = spawnSync('kcat', ['-b', brokers(), ...args], {
    input,
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(result.status, 0, `kcat ${args.join(' ')}: ${result.stderr?.toString()}`);
  return result.stdout;
}

async function publish(
  t: Parameters<typeof tempDir>[0],
  topic: string,
  events: AuditEvent[],
): Promise<void> {
  const spoolDir = await tempDir(t);
  const trail = new AuditTrail({
    transport: new KafkaTransport({ kafka: kafkaClient(), spoolDir, topic }),
    source: 'interop-host',
  });
  for (const event of events) trail.addEvent(event);
  await trail.close({ timeoutMs: 30_000 });
}

test('kcat reads the topic and Apache Avro for Python decodes the values with schemas/audit-event.avsc', async (t) => {
  const { topic } = await createTopics(t, 3);
  const events = [
    new AuditEvent(AuditEventType.PackageInstall)
      .withPackageName('left-pad')
      .withPackageVersion('1.3.0')
      .withUser('ada')
      .withIpAddress('192.0.2.7'),
    new AuditEvent(AuditEventType.IntegrityCheck)
      .withPackageName('@babel/core')
      .withSuccess(false)
      .withErrorMessage('sha512 mismatch'),
    new AuditEvent(AuditEventType.ConfigurationChange).withDetails({
      setting: 'registry.url',
      new_value: 'https://r.example',
    }),
    new AuditEvent(AuditEventType.RuntimeProtection)
      .withPackageName('event-stream')
      .withIpAddress('2001:db8::5')
      .withUser('Zoë'),
  ];
  await publish(t, topic, events);

  const raw = kcat(['-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%R%s']);
  const python = spawnSync(
    '/usr/bin/python3',
    [join(ROOT, 'test/interop/decode_single_objects.py'), join(ROOT, 'schemas/audit-event.avsc')],
    {
      input: raw,
      encoding: 'utf8',
    },
  );
  assert.equal(python.status, 0, python.stderr);
  const decoded = python.stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const byId = new Map(decoded.map((d) => [d['id'], d]));
  assert.equal(byId.size, events.length);
  for (const event of events) {
    const expected = { ...event.toRecord(), source: 'interop-host' };
    assert.deepEqual(
      byId.get(event.id),
      Object.fromEntries(Object.entries(expected).sort(([a], [b]) => a.localeCompare(b))),
    );
  }

  // the headers a SIEM filters on are there too
  const headers = kcat([
    '-C',
    '-t',
    topic,
    '-o',
    'beginning',
    '-e',
    '-q',
    '-f',
    '%k %h\n',
  ]).toString('utf8');
  assert.match(headers, /left-pad event_type=PackageInstall,schema_fingerprint=[0-9a-f]{16}/);
});

test('a garbage record put on the topic with kcat lands in the dead-letter topic and the consumer goes on', async (t) => {
  const { topic, dlq } = await createTopics(t, 1);
  await publish(t, topic, [
    new AuditEvent(AuditEventType.PackageInstall).withPackageName('before'),
  ]);
  kcat(['-P', '-t', topic, '-k', 'garbage-key', '-H', 'origin=kcat'], 'this is not avro');
  kcat(
    ['-P', '-t', topic, '-k', 'wrong-schema'],
    Buffer.concat([Buffer.from([0xc3, 0x01]), Buffer.alloc(8, 0xab), Buffer.from('x')]),
  );
  await publish(t, topic, [new AuditEvent(AuditEventType.PackageInstall).withPackageName('after')]);

  const events = await consumeEvents(topic, 2, 60_000);
  assert.deepEqual(
    events.map((e) => e.event.package_name),
    ['before', 'after'],
  );

  const letters = kcat(['-C', '-t', dlq, '-o', 'beginning', '-e', '-q', '-f', '%k|%s|%h\n'])
    .toString('utf8')
    .trimEnd()
    .split('\n');
  assert.equal(letters.length, 2);
  assert.match(letters[0] ?? '', /^garbage-key\|this is not avro\|.*origin=kcat/);
  assert.match(letters[0] ?? '', new RegExp(`${DLQ_HEADERS.reason}=DECODE_FAILED: `));
  assert.match(
    letters[0] ?? '',
    new RegExp(
      `${DLQ_HEADERS.topic}=${topic.replace(/\./g, '\\.')},${DLQ_HEADERS.partition}=0,${DLQ_HEADERS.offset}=1`,
    ),
  );
  assert.match(
    letters[1] ?? '',
    new RegExp(
      `^wrong-schema\\|.*${DLQ_HEADERS.reason}=UNKNOWN_SCHEMA: unknown writer schema fingerprint abababababababab`,
    ),
  );
});

test('the group commits what it handled: a restarted member continues after it', async (t) => {
  const { topic } = await createTopics(t, 2);
  await publish(
    t,
    topic,
    Array.from({ length: 50 }, (_, i) =>
      new AuditEvent(AuditEventType.IntegrityCheck).withPackageName(`p${i % 7}`),
    ),
  );
  const groupId = `it-commit-${topic}`;
  const seen: string[] = [];
  const first = new GroupConsumer({ kafka: kafkaClient(), groupId, topic, logger: silentLogger() });
  await first.start(
    committingConsumer(kafkaClient(), topic, (batch) => {
      seen.push(...batch.map((e) => e.event.id));
    }),
  );
  while (seen.length < 50) await new Promise((r) => setTimeout(r, 100));
  await first.stop();

  await publish(t, topic, [new AuditEvent(AuditEventType.IntegrityCheck).withPackageName('later')]);
  const again: string[] = [];
  const second = new GroupConsumer({
    kafka: kafkaClient(),
    groupId,
    topic,
    logger: silentLogger(),
  });
  await second.start(
    committingConsumer(kafkaClient(), topic, (batch) => {
      again.push(...batch.map((e) => e.event.package_name ?? ''));
    }),
  );
  const deadline = Date.now() + 30_000;
  while (again.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 500));
  await second.stop();
  assert.deepEqual(again, ['later']);
});
