/**
 * The SIEM feed against the local stack: members are real `audit-trail
 * siem-feed` processes, SIGKILLed at random moments while events flow in;
 * the output topic is read back by kcat (librdkafka) as a read_committed
 * reader, and the events topic's own order per package is the reference.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import { recordFromJson } from '../../schemas/record-from-json.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { SIEM_FORMATS, type SiemFormat } from '../../schemas/siem/index.js';
import { encodeSingleObject } from '../../schemas/single-object.js';
import { parseCef } from '../schemas/cef-parser.js';
import { type Json, validateOcsf } from '../schemas/ocsf-validator.js';
import { pipelineEnv, startMember, stopMember, waitUntil, type MemberProcess } from './pipeline.js';
import { committedRecords, createTopics, kafkaClient, kcatCommitted } from './stack.js';

/** The ids of this test's events; nothing else on the topics looks like one. */
const ID = /0190b6a2-\d{4}-7000-8000-\d{12}/g;

function eventId(n: number): string {
  return `0190b6a2-${String(Math.floor(n / 1e6)).padStart(4, '0')}-7000-8000-${String(n % 1e6).padStart(12, '0')}`;
}

interface Feed {
  topic: string;
  dlq: string;
  env: NodeJS.ProcessEnv;
}

/** An events topic of `partitions` partitions, its dead-letter topic and the feed topics of `formats`. */
async function setup(
  t: TestContext,
  partitions: number,
  formats: readonly SiemFormat[],
  extra: NodeJS.ProcessEnv = {},
): Promise<Feed> {
  const { topic, dlq } = await createTopics(t, partitions);
  const outputs = formats.map((format) => `${topic}.${format}`);
  const admin = kafkaClient().admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: outputs.map((name) => ({ topic: name, numPartitions: 3, replicationFactor: 1 })),
  });
  await admin.disconnect();
  t.after(async () => {
    const cleanup = kafkaClient().admin();
    await cleanup.connect();
    await cleanup.deleteTopics({ topics: outputs }).catch(() => undefined);
    await cleanup.disconnect();
  });
  const env = pipelineEnv(topic, 'unused', {
    AUDIT_SIEM_FEED_SESSION_TIMEOUT_MS: '6000',
    AUDIT_LOG_LEVEL: 'warn',
    ...extra,
  });
  return { topic, dlq, env };
}

/** Events `from`..`to`-1 of `packages` packages, encoded as producers put them on the topic, key = package. */
function encodedEvents(from: number, to: number, packages: number): kafkajs.Message[] {
  const schemas = auditEventSchemas();
  const messages: kafkajs.Message[] = [];
  for (let n = from; n < to; n++) {
    const pkg = `pkg-${n % packages}`;
    const event = recordFromJson({
      id: eventId(n),
      event_type: 'PackageInstall',
      package_name: pkg,
      package_version: `1.0.${n}`,
      user: 'it-installer',
      details: { seq: String(n) },
      source: 'it-host',
    });
    messages.push({ key: pkg, value: encodeSingleObject(schemas, event) });
  }
  return messages;
}

function startFeed(env: NodeJS.ProcessEnv, format: SiemFormat): MemberProcess {
  return startMember(env, ['siem-feed', '--format', format]);
}

function kcat(topic: string, format: string, partition?: number): string {
  return kcatCommitted(topic, format, {
    encoding: 'latin1',
    ...(partition === undefined ? {} : { partition }),
  });
}

const feedRecords = committedRecords;

/** The ids of one partition of the events topic, in the topic's order (read from the Avro bytes). */
function eventsTopicOrder(topic: string, partitions: number): Map<string, string[]> {
  const perKey = new Map<string, string[]>();
  for (let p = 0; p < partitions; p++) {
    // one record per line: the key, then the value's id (the value is binary, the id is ASCII in it)
    for (const line of kcat(topic, '%k\\t%s\\x1e', p).split('\x1e')) {
      const tab = line.indexOf('\t');
      if (tab < 0) continue;
      const id = line.slice(tab + 1).match(ID)?.[0];
      if (id === undefined) continue; // the garbage records
      const key = line.slice(0, tab);
      const ids = perKey.get(key) ?? [];
      ids.push(id);
      perKey.set(key, ids);
    }
  }
  return perKey;
}

async function outputHighWatermark(topic: string): Promise<number> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

test('50,000 events while feed members are SIGKILLed at random moments and restarted, a second member part of the time: a read_committed reader sees every event once, in the order of its package, and every undecodable record once in the dead-letter topic', async (t) => {
  const TOTAL = 50_000;
  const PACKAGES = 40;
  const GARBAGE = 5;
  const format: SiemFormat = 'ocsf';
  const s = await setup(t, 3, [format], {
    AUDIT_SIEM_FEED_GROUP: `it-siem-${randomBytes(4).toString('hex')}`,
    AUDIT_SIEM_FEED_BATCH_EVENTS: '400',
  });
  const output = `${s.topic}.${format}`;
  const members: MemberProcess[] = [];
  const start = (): MemberProcess => {
    const member = startFeed(s.env, format);
    members.push(member);
    return member;
  };
  t.after(() => members.forEach((m) => m.child.kill('SIGKILL')));

  // events flow in for the whole run: chunks with pauses, garbage among them
  const producer = kafkaClient().producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  let produced = 0;
  const producing = (async () => {
    const CHUNK = 1000;
    for (let from = 0; from < TOTAL; from += CHUNK) {
      const messages = encodedEvents(from, Math.min(TOTAL, from + CHUNK), PACKAGES);
      if ((from / CHUNK) % 10 === 3)
        messages.splice(CHUNK / 2, 0, { key: 'pkg-garbage', value: randomBytes(40) });
      await producer.send({ topic: s.topic, acks: -1, messages });
      produced = Math.min(TOTAL, from + CHUNK);
      await sleep(700);
    }
    await producer.disconnect();
  })();

  let victim = start();
  let second: MemberProcess | undefined;
  const kills = 6;
  for (let kill = 1; kill <= kills; kill++) {
    if (kill === 2) second = start(); // two members from the second kill to the fifth
    if (kill === 5 && second !== undefined) {
      assert.equal(await stopMember(second), 0, second.log());
      second = undefined;
    }
    // a random moment once the feed moves again after the last kill
    const before = await outputHighWatermark(output);
    await waitUntil(
      async () => (await outputHighWatermark(output)) > before,
      30_000,
      `progress before kill ${kill}\n${victim.log()}`,
    );
    await sleep(Math.floor(Math.random() * 1500));
    victim.child.kill('SIGKILL');
    await victim.exited;
    t.diagnostic(`kill ${kill}: ${produced} events produced`);
    victim = start();
  }
  await producing;
  const count = (): number => feedRecords(output).length;
  await waitUntil(() => count() >= TOTAL, 90_000, `every event on ${output}\n${victim.log()}`);
  assert.equal(await stopMember(victim), 0, victim.log());
  assert.match(victim.log(), /published \d+ events/);

  const records = feedRecords(output);
  const seen = new Map<string, number>();
  const outputPerKey = new Map<string, string[]>();
  for (const { key, value } of records) {
    const ids = value.match(ID) ?? [];
    assert.equal(ids.length, 1, `one event id in ${value}`);
    const id = ids[0];
    seen.set(id, (seen.get(id) ?? 0) + 1);
    const list = outputPerKey.get(key) ?? [];
    list.push(id);
    outputPerKey.set(key, list);
  }
  const duplicated = [...seen].filter(([, n]) => n > 1);
  assert.deepEqual(duplicated.slice(0, 5), [], `${duplicated.length} events seen more than once`);
  const missing = Array.from({ length: TOTAL }, (_, n) => eventId(n)).filter((id) => !seen.has(id));
  assert.deepEqual(missing.slice(0, 5), [], `${missing.length} events missing`);
  assert.equal(records.length, TOTAL);
  const inputPerKey = eventsTopicOrder(s.topic, 3);
  assert.equal(inputPerKey.size, PACKAGES);
  for (const [key, ids] of inputPerKey)
    assert.deepEqual(outputPerKey.get(key), ids, `the order of ${key}`);

  const deadLetters = kcat(s.dlq, '%k %o\\n')
    .split('\n')
    .filter((line) => line.length > 0);
  assert.equal(
    deadLetters.length,
    GARBAGE,
    'each undecodable record once in the dead-letter topic',
  );
  assert.ok(deadLetters.every((line) => line.startsWith('pkg-garbage ')));
});

test('kcat reads each feed topic as text: one record per event, with its key, holding the event id; a member stops cleanly on SIGTERM', async (t) => {
  const s = await setup(t, 3, SIEM_FORMATS, {
    AUDIT_SIEM_FEED_GROUP: undefined,
  });
  const producer = kafkaClient().producer({
    createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  await producer.send({ topic: s.topic, messages: encodedEvents(0, 30, 4) });
  await producer.disconnect();
  // each format has its own group (audit-siem-<format>), so the three run side by side
  const members = SIEM_FORMATS.map((format) => ({
    format,
    member: startFeed(
      { ...s.env, AUDIT_SIEM_FEED_GROUP: `it-siem-${format}-${randomBytes(4).toString('hex')}` },
      format,
    ),
  }));
  t.after(() => members.forEach(({ member }) => member.child.kill('SIGKILL')));
  for (const { format, member } of members) {
    const topic = `${s.topic}.${format}`;
    await waitUntil(() => feedRecords(topic).length >= 30, 40_000, `${topic}\n${member.log()}`);
    assert.equal(await stopMember(member), 0, member.log());
    assert.match(member.log(), /published 30 events on/);
    const records = feedRecords(topic);
    assert.equal(records.length, 30);
    for (const [n, { key, value }] of records
      .sort((a, b) => (a.value.match(ID)?.[0] ?? '').localeCompare(b.value.match(ID)?.[0] ?? ''))
      .entries()) {
      const id = eventId(n);
      assert.equal(key, `pkg-${n % 4}`);
      if (format === 'cef') {
        // each line as the independent CEF reader parses it
        assert.equal(parseCef(value).extension.get('externalId'), id, value);
      } else {
        const document = JSON.parse(value) as Json;
        assert.ok(JSON.stringify(document).includes(`"${id}"`), value);
        // each OCSF record against the published OCSF schema
        if (format === 'ocsf') assert.deepEqual(validateOcsf(document), [], value);
      }
    }
  }
});
