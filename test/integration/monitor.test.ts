/**
 * The suspicious-activity monitor against the local stack: a scripted
 * scenario holds, for every rule, a trigger and a benign counterpart of the
 * same size, with explicit event times; the events of one source or user are
 * spread over packages, hence over the partitions of the events topic. Members
 * are real `audit-trail monitor` processes; the alerts topics are read back by
 * kcat as a read_committed reader and compared with the exact expected set.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { recordFromJson } from '../../schemas/record-from-json.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { encodeSingleObject } from '../../schemas/single-object.js';
import { type Json, validateOcsf } from '../schemas/ocsf-validator.js';
import { type MemberProcess, pipelineEnv, startMember, stopMember, waitUntil } from './pipeline.js';
import { createTopics, kafkaClient, kcatCommitted } from './stack.js';

const BASE = Date.UTC(2026, 0, 12, 9, 0, 0);
const SECOND = 1000;
const MINUTE = 60 * SECOND;

interface ScenarioEvent {
  /** The produce step of the scenario it belongs to (the crash test stops members between steps). */
  step: 1 | 2 | 3;
  event: AuditEventRecord;
}

interface ExpectedAlert {
  rule: string;
  key: string;
  event_ids: string[];
  severity: string;
  /** The produce step that completes it. */
  step: 1 | 2 | 3;
}

interface Scenario {
  events: ScenarioEvent[];
  expected: ExpectedAlert[];
}

/**
 * Every rule's trigger and its benign counterpart (the same number of events
 * of the same kinds, spaced so that no window holds enough of them, or with a
 * value that does not match). Sources, users and packages are distinct per
 * rule, so that no rule sees another rule's events; only the new-IP scenario's
 * events have a user.
 */
function scenario(): Scenario {
  const events: ScenarioEvent[] = [];
  let n = 0;
  const add = (step: 1 | 2 | 3, at: number, fields: Json): AuditEventRecord => {
    n++;
    const event = recordFromJson({
      id: `0190b6a2-${String(Math.floor(n / 1e6)).padStart(4, '0')}-7000-8000-${String(n % 1e6).padStart(12, '0')}`,
      timestamp: BASE + at,
      ...fields,
    });
    events.push({ step, event });
    return event;
  };
  const failed = { success: false, error_message: 'checksum mismatch' };
  const ids = (list: AuditEventRecord[]) => list.map((e) => e.id);
  const expected: ExpectedAlert[] = [];

  // integrity-failures-package: 3 failed checks of one package within 10 minutes; the third comes
  // in the second step. Benign: 3 of another package, 6 minutes apart.
  const tampered = [0, 2, 4].map((m, i) =>
    add(i < 2 ? 1 : 2, m * MINUTE, {
      event_type: 'IntegrityCheck',
      package_name: 'it-tampered',
      package_version: '1.0.0',
      source: 'it-src-intpkg',
      ...failed,
    }),
  );
  for (const m of [0, 6, 12])
    add(1, m * MINUTE, {
      event_type: 'IntegrityCheck',
      package_name: 'it-flaky',
      package_version: '1.0.0',
      source: 'it-src-intpkg-ok',
      ...failed,
    });
  expected.push({
    rule: 'integrity-failures-package',
    key: 'package:it-tampered',
    event_ids: ids(tampered),
    severity: 'high',
    step: 2,
  });

  // integrity-failures-source: 5 failed checks from one source within 10 minutes, 5 packages.
  // Benign: 5 from another source, 11 minutes apart.
  const sourceFailures = [0, 1, 2, 3, 4].map((m) =>
    add(1, m * MINUTE, {
      event_type: 'IntegrityCheck',
      package_name: `it-lib-${m}`,
      package_version: '2.0.0',
      source: 'it-src-intsrc',
      ...failed,
    }),
  );
  for (const m of [0, 1, 2, 3, 4])
    add(1, m * 11 * MINUTE, {
      event_type: 'IntegrityCheck',
      package_name: `it-lib-${m + 5}`,
      package_version: '2.0.0',
      source: 'it-src-intsrc-ok',
      ...failed,
    });
  expected.push({
    rule: 'integrity-failures-source',
    key: 'source:it-src-intsrc',
    event_ids: ids(sourceFailures),
    severity: 'high',
    step: 1,
  });

  // install-after-vulnerable-scan: a critical scan, then the install of that version an hour
  // later, in the second step. Benign: a scan that found only low advisories, then the install.
  const scan = add(1, 0, {
    event_type: 'VulnerabilityScan',
    package_name: 'it-vuln',
    package_version: '1.2.3',
    source: 'it-src-scan',
    details: { max_severity: 'critical', advisories: 'GHSA-it00-0000-0001' },
  });
  const install = add(2, 60 * MINUTE, {
    event_type: 'PackageInstall',
    package_name: 'it-vuln',
    package_version: '1.2.3',
    source: 'it-src-scan',
  });
  add(1, 0, {
    event_type: 'VulnerabilityScan',
    package_name: 'it-safe',
    package_version: '1.2.3',
    source: 'it-src-scan',
    details: { max_severity: 'low', advisories: 'GHSA-it00-0000-0002' },
  });
  add(2, 60 * MINUTE, {
    event_type: 'PackageInstall',
    package_name: 'it-safe',
    package_version: '1.2.3',
    source: 'it-src-scan',
  });
  expected.push({
    rule: 'install-after-vulnerable-scan',
    key: 'package:it-vuln',
    event_ids: ids([scan, install]),
    severity: 'critical',
    step: 2,
  });

  // protection-disabled: integrity checking turned off. Benign: turned on.
  const disabled = add(1, 0, {
    event_type: 'ConfigurationChange',
    source: 'it-src-config',
    details: { setting: 'integrity-check', old_value: 'true', new_value: 'false' },
  });
  add(1, 0, {
    event_type: 'ConfigurationChange',
    source: 'it-src-config-ok',
    details: { setting: 'integrity-check', old_value: 'false', new_value: 'true' },
  });
  expected.push({
    rule: 'protection-disabled',
    key: 'source:it-src-config',
    event_ids: ids([disabled]),
    severity: 'critical',
    step: 1,
  });

  // new-ip-for-user: a user seen twice from one address, then from another in the third step
  // (one package, so that the three stay in order). Benign: three events of another user from
  // one address, over three packages.
  const user = (step: 1 | 2 | 3, at: number, name: string, ip: string, pkg: string) =>
    add(step, at, {
      event_type: 'PackageInstall',
      package_name: pkg,
      package_version: '3.0.0',
      source: 'it-src-users',
      user: name,
      ip_address: ip,
    });
  user(1, 0, 'it-alice', '192.0.2.10', 'it-app');
  user(1, 5 * MINUTE, 'it-alice', '192.0.2.10', 'it-app');
  const newIp = user(3, 10 * MINUTE, 'it-alice', '198.51.100.7', 'it-app');
  for (const [i, m] of [0, 5, 10].entries())
    user(1, m * MINUTE, 'it-bob', '192.0.2.20', `it-tool-${i}`);
  expected.push({
    rule: 'new-ip-for-user',
    key: 'user:it-alice',
    event_ids: ids([newIp]),
    severity: 'medium',
    step: 3,
  });

  // failure-burst: 20 failed installs from one source within 38 seconds, half in each of the
  // first two steps. Benign: 20 from another source, 4 seconds apart (at most 16 in a minute).
  const burst = Array.from({ length: 20 }, (_, i) =>
    add(i < 10 ? 1 : 2, i * 2 * SECOND, {
      event_type: 'PackageInstall',
      package_name: `it-burst-${i % 6}`,
      package_version: '1.0.0',
      source: 'it-src-burst',
      success: false,
      error_message: 'registry refused the request',
    }),
  );
  for (let i = 0; i < 20; i++)
    add(1, i * 4 * SECOND, {
      event_type: 'PackageInstall',
      package_name: `it-burst-${i % 6}`,
      package_version: '1.0.0',
      source: 'it-src-burst-ok',
      success: false,
      error_message: 'registry refused the request',
    });
  expected.push({
    rule: 'failure-burst',
    key: 'source:it-src-burst',
    event_ids: ids(burst),
    severity: 'medium',
    step: 2,
  });

  // runtime-block-rate: 10 blocks from one source within 27 seconds. Benign: 10 blocks 15 seconds
  // apart (at most 5 in a minute).
  const blocks = Array.from({ length: 10 }, (_, i) =>
    add(2, i * 3 * SECOND, {
      event_type: 'RuntimeProtection',
      package_name: `it-guarded-${i % 5}`,
      package_version: '1.0.0',
      source: 'it-src-runtime',
      details: { action: 'blocked', syscall: 'connect' },
    }),
  );
  for (let i = 0; i < 10; i++)
    add(2, i * 15 * SECOND, {
      event_type: 'RuntimeProtection',
      package_name: `it-guarded-${i % 5}`,
      package_version: '1.0.0',
      source: 'it-src-runtime-ok',
      details: { action: 'blocked', syscall: 'connect' },
    });
  expected.push({
    rule: 'runtime-block-rate',
    key: 'source:it-src-runtime',
    event_ids: ids(blocks),
    severity: 'high',
    step: 2,
  });
  return { events, expected };
}

interface Setup {
  topic: string;
  dlq: string;
  keyed: string;
  alerts: string;
  ocsf: string;
  env: NodeJS.ProcessEnv;
}

/** An events topic of 3 partitions, its dead-letter topic, the keyed topic and the alerts topics, all the test's own. */
async function setup(t: TestContext): Promise<Setup> {
  const { topic, dlq } = await createTopics(t, 3);
  const keyed = `${topic}.monitor`;
  const alerts = `${topic}.alerts`;
  const ocsf = `${alerts}.ocsf`;
  const admin = kafkaClient().admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [keyed, alerts, ocsf].map((name) => ({
      topic: name,
      numPartitions: 3,
      replicationFactor: 1,
    })),
  });
  await admin.disconnect();
  t.after(async () => {
    const cleanup = kafkaClient().admin();
    await cleanup.connect();
    await cleanup.deleteTopics({ topics: [keyed, alerts, ocsf] }).catch(() => undefined);
    await cleanup.disconnect();
  });
  const env = pipelineEnv(topic, 'unused', {
    AUDIT_ALERTS_TOPIC: alerts,
    AUDIT_MONITOR_GROUP: `it-monitor-${randomBytes(4).toString('hex')}`,
    AUDIT_MONITOR_SESSION_TIMEOUT_MS: '6000',
    // small transactions: a kill lands between many of them
    AUDIT_MONITOR_BATCH_EVENTS: '5',
    AUDIT_LOG_LEVEL: 'warn', // each alert is logged at warn
    AUDIT_LOG_FORMAT: 'json',
  });
  return { topic, dlq, keyed, alerts, ocsf, env };
}

/** The events of `step`, encoded as producers put them on the topic (key: package, else source). */
async function produce(topic: string, events: ScenarioEvent[], extra: kafkajs.Message[] = []) {
  const schemas = auditEventSchemas();
  const producer = kafkaClient().producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: [
      ...events.map(({ event }) => ({
        key: event.package_name ?? event.source ?? event.id,
        value: encodeSingleObject(schemas, event),
      })),
      ...extra,
    ],
  });
  await producer.disconnect();
}

/** kcat as a read_committed reader of `topic`, from its beginning to its end. */
function kcat(topic: string, format: string): string {
  return kcatCommitted(topic, format, { timeoutMs: 30_000 });
}

/** Every record of a topic as a read_committed reader sees it: its key and its value as JSON. */
function jsonRecords(topic: string): { key: string; value: Json }[] {
  return kcat(topic, '%k\\t%s\\n')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const tab = line.indexOf('\t');
      return { key: line.slice(0, tab), value: JSON.parse(line.slice(tab + 1)) as Json };
    });
}

/** An alert as the comparison sees it: rule, key and the triggering events. */
function identity(alert: { rule?: unknown; key?: unknown; event_ids?: unknown }): string {
  return JSON.stringify([alert.rule, alert.key, alert.event_ids]);
}

/** The alerts on `topic` so far, by identity, with how often each is there. */
function alertCounts(topic: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { value } of jsonRecords(topic)) {
    const id = identity(value);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/**
 * What the group has yet to commit on both topics, '' once every event is
 * routed and every keyed record evaluated: its committed offset of each
 * partition is past the partition's last record (transaction markers, which
 * a consumer never sees, may follow it).
 */
async function unsettled(s: Setup, groupId: string): Promise<string> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    const behind: string[] = [];
    for (const topic of [s.topic, s.keyed]) {
      const ends = new Map<number, number>();
      for (const line of kcat(topic, '%p %o\\n').split('\n')) {
        const [partition, offset] = line.split(' ').map(Number);
        if (partition !== undefined && offset !== undefined && !Number.isNaN(offset))
          ends.set(partition, Math.max(ends.get(partition) ?? 0, offset + 1));
      }
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      for (const [partition, end] of ends) {
        const offset = committed?.partitions.find((p) => p.partition === partition)?.offset;
        if (offset === undefined || Number(offset) < end)
          behind.push(`${topic}/${partition} committed ${offset} of ${end}`);
      }
    }
    return behind.join(', ');
  } finally {
    await admin.disconnect();
  }
}

/** Waits until the group has committed everything on both topics. */
async function settled(s: Setup, groupId: string, logs: () => string): Promise<void> {
  let behind = '';
  await waitUntil(
    async () => (behind = await unsettled(s, groupId)) === '',
    20_000,
    `every record routed and evaluated\n${logs()}`,
  ).catch((error: Error) => {
    error.message = `${error.message}\nbehind: ${behind}`;
    throw error;
  });
}

/** Checks the alerts topics against `expected`: each expected alert once, nothing else, in both formats. */
function assertAlerts(s: Setup, expected: ExpectedAlert[]): void {
  const records = jsonRecords(s.alerts);
  assert.deepEqual(
    records.map(({ value }) => identity(value)).sort(),
    expected.map(identity).sort(),
    'each expected alert once on the alerts topic, and no other',
  );
  for (const { key, value } of records) {
    const want = expected.find((e) => identity(e) === identity(value));
    assert.ok(want);
    assert.equal(key, want.key, 'the record key is the state key');
    assert.equal(value['severity'], want.severity, `severity of ${want.rule}`);
    assert.match(String(value['id']), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-/);
    assert.equal(typeof value['message'], 'string');
  }
  const findings = jsonRecords(s.ocsf);
  assert.equal(findings.length, expected.length, 'one OCSF finding per alert');
  const alertIds = new Set(records.map(({ value }) => String(value['id'])));
  for (const { key, value } of findings) {
    assert.deepEqual(validateOcsf(value), [], JSON.stringify(value));
    assert.equal(value['class_uid'], 2004);
    const text = JSON.stringify(value);
    const ids = [...alertIds].filter((id) => text.includes(`"${id}"`));
    assert.equal(ids.length, 1, `one alert id in ${text}`);
    assert.ok(
      expected.some((e) => e.key === key),
      `the key ${key} of the finding is an alert's`,
    );
  }
}

test('every rule fires on its trigger and stays quiet on a benign counterpart of the same size; alerts are published as JSON and OCSF and logged, undecodable events go to the dead-letter topic', async (t) => {
  const s = await setup(t);
  const { events, expected } = scenario();
  await produce(s.topic, events, [{ key: 'it-garbage', value: randomBytes(40) }]);
  const member = startMember(s.env, ['monitor']);
  t.after(() => member.child.kill('SIGKILL'));
  await waitUntil(
    () => alertCounts(s.alerts).size >= expected.length,
    40_000,
    `${expected.length} alerts\n${member.log()}`,
  );
  await settled(s, String(s.env['AUDIT_MONITOR_GROUP']), member.log);
  assert.equal(await stopMember(member), 0, member.log());
  assertAlerts(s, expected);
  assert.match(member.log(), new RegExp(`published ${expected.length} alerts on`));
  // each alert logged at warn with its rule, key, severity and id
  const logged = member
    .log()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Json)
    .filter((entry) => typeof entry['rule'] === 'string');
  assert.deepEqual(
    logged.map((entry) => `${String(entry['rule'])} ${String(entry['key'])}`).sort(),
    expected.map((e) => `${e.rule} ${e.key}`).sort(),
  );
  assert.ok(logged.every((entry) => entry['level'] === 40 && typeof entry['id'] === 'string'));
  // the keyed topic: the events' own bytes under their state keys, with the key in a header
  const keyed = kcat(s.keyed, '%k\\t%h\\n')
    .split('\n')
    .filter((line) => line.length > 0);
  assert.ok(keyed.length >= events.length, `${keyed.length} keyed records`);
  for (const line of keyed) {
    const [key, headers] = line.split('\t');
    assert.match(key ?? '', /^(package|source|user|event):/);
    assert.ok(headers?.includes(`monitor_key=${key}`), line);
  }
  const deadLetters = kcat(s.dlq, '%k\\n')
    .split('\n')
    .filter((line) => line.length > 0);
  assert.deepEqual(deadLetters, ['it-garbage']);
});

test('members SIGKILLed between the steps of the scenario, in the middle of triggers, and a second member joining: every alert once, none missing, none extra', async (t) => {
  const s = await setup(t);
  const groupId = String(s.env['AUDIT_MONITOR_GROUP']);
  const { events, expected } = scenario();
  const members: MemberProcess[] = [];
  const start = (): MemberProcess => {
    const member = startMember(s.env, ['monitor']);
    members.push(member);
    return member;
  };
  t.after(() => members.forEach((m) => m.child.kill('SIGKILL')));
  const logs = () => members.map((m) => m.log()).join('\n---\n');
  const stepEvents = (step: number) => events.filter((e) => e.step === step);
  const expectedBy = (step: number) => expected.filter((e) => e.step <= step);
  const seen = () => alertCounts(s.alerts);

  // step 1: two alerts; three triggers half way (integrity of a package, a burst, a scan before
  // its install) and a user's known address; the member is killed once all of it is evaluated
  await produce(s.topic, stepEvents(1));
  const first = start();
  await waitUntil(
    () => seen().size >= expectedBy(1).length,
    40_000,
    `the alerts of step 1\n${logs()}`,
  );
  await settled(s, groupId, logs);
  first.child.kill('SIGKILL');
  await first.exited;
  assert.deepEqual([...seen().keys()].sort(), expectedBy(1).map(identity).sort());

  // step 2: the rest of those triggers and a new one; two members (a rebalance), one of them
  // killed at a random moment while the step is handled, and started again
  await produce(s.topic, stepEvents(2));
  const second = start();
  start();
  await waitUntil(() => seen().size > expectedBy(1).length, 40_000, `a step 2 alert\n${logs()}`);
  await sleep(Math.floor(Math.random() * 1000));
  second.child.kill('SIGKILL');
  await second.exited;
  start();
  await waitUntil(
    () => seen().size >= expectedBy(2).length,
    40_000,
    `the alerts of step 2\n${logs()}`,
  );

  // step 3: the user's new address; the state that knows the old one was rebuilt after the kills
  await produce(s.topic, stepEvents(3));
  await waitUntil(() => seen().size >= expected.length, 30_000, `the alerts of step 3\n${logs()}`);
  await settled(s, groupId, logs);
  for (const member of members.filter((m) => m.child.exitCode === null && !m.child.killed))
    assert.equal(await stopMember(member), 0, member.log());
  const duplicated = [...seen()].filter(([, count]) => count > 1);
  assert.deepEqual(duplicated, [], 'no alert twice');
  assertAlerts(s, expected);
});
