import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import { readConfigFile } from '../../cli/config.js';
import { silentLogger } from '../../common/logger.js';
import { KafkaTransport } from '../../producer/kafka-transport.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { decodeSingleObject, encodeSingleObject } from '../../schemas/single-object.js';
import { record, tempDir } from '../helpers.js';
import { eventFiles } from './event-files.js';
import { assertArchivedOnce, pipelineEnv, startArchiver, stopMember } from './pipeline.js';
import { ROOT, runCli, testBucket } from './stack.js';

const STACK_SCRIPT = join(ROOT, 'dist/scripts/stack.js');

function cluster(action: 'up' | 'down'): void {
  const result = spawnSync(process.execPath, [STACK_SCRIPT, 'cluster', action], {
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stdout + result.stderr);
}

/** The three-node cluster, started by the stack script for this test and stopped after it. */
function startCluster(t: TestContext): string {
  cluster('up');
  t.after(() => cluster('down'));
  const brokers = readConfigFile(join(ROOT, '.stack', 'cluster.env'))['KAFKA_BROKERS'];
  assert.ok(brokers !== undefined);
  return brokers;
}

/** A client of `brokers` (`host:port`, a list or comma-separated), silent. */
function clusterKafka(
  brokers: string | string[],
  clientId: string,
  retry?: kafkajs.RetryOptions,
): kafkajs.Kafka {
  return new kafkajs.Kafka({
    clientId,
    brokers: typeof brokers === 'string' ? brokers.split(',') : brokers,
    logLevel: kafkajs.logLevel.NOTHING,
    ...(retry === undefined ? {} : { retry }),
  });
}

/** Creates each topic with its partition count, on all three nodes, acknowledged by two. */
async function createReplicated(
  admin: kafkajs.Admin,
  topics: Record<string, number>,
): Promise<void> {
  await admin.createTopics({
    waitForLeaders: true,
    topics: Object.entries(topics).map(([topic, numPartitions]) => ({
      topic,
      numPartitions,
      replicationFactor: 3,
      configEntries: [{ name: 'min.insync.replicas', value: '2' }],
    })),
  });
}

/**
 * SIGKILLs the node that leads `partition` of `topic`: its node id, how many
 * of the topic's partitions it led, and the nodes still up (`host:port`), to
 * which the test's own questions go afterwards (kafkajs asks the one broker it
 * connected to, which may be the dead one).
 */
async function killLeaderOf(
  admin: kafkajs.Admin,
  topic: string,
  partition: number,
): Promise<{ leader: number; led: number; survivors: string[] }> {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  const partitions = metadata.topics[0]?.partitions ?? [];
  const leader = partitions.find((p) => p.partitionId === partition)?.leader;
  assert.ok(leader !== undefined && leader > 0, `partition ${partition} has a leader`);
  const survivors = (await admin.describeCluster()).brokers
    .filter((b) => b.nodeId !== leader)
    .map((b) => `${b.host}:${b.port}`);
  const pid = Number(
    readFileSync(join(ROOT, '.stack', 'cluster', `node${leader}.pid`), 'utf8').trim(),
  );
  process.kill(pid, 'SIGKILL');
  return { leader, led: partitions.filter((p) => p.leader === leader).length, survivors };
}

/**
 * The leader of a partition, asked of `brokers` (the nodes still up) by a
 * fresh client per attempt: kafkajs may pick a node the metadata still lists,
 * dead or not, and fail the request instead of trying another.
 */
async function leaderOf(brokers: string[], topic: string, partition: number): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const admin = clusterKafka(brokers, 'failover-test-after').admin();
    try {
      await admin.connect();
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      const leader = metadata.topics[0]?.partitions.find((p) => p.partitionId === partition);
      if (leader !== undefined) return leader.leader;
    } catch (error) {
      if (attempt === 5) throw error;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    if (attempt === 5) assert.fail(`no leader of ${topic}/${partition} in the metadata`);
    await sleep(1000);
  }
}

test('three-node cluster: the partition leader killed while 4 producers publish and the archiver runs, a second member starting meanwhile; nothing lost, nothing duplicated, verify OK', async (t) => {
  const brokers = startCluster(t);
  const partitions = 6;
  const topic = `it-failover-${Date.now()}`;
  const admin = clusterKafka(brokers, 'failover-test').admin();
  await admin.connect();
  await createReplicated(admin, { [topic]: partitions, [`${topic}.dlq`]: 1 });
  t.after(async () => {
    await admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => undefined);
    await admin.disconnect();
  });

  const { bucket, store } = await testBucket(t);
  const dir = await tempDir(t);
  const { files, ids } = eventFiles(dir, 4, 10_000, 30);
  const env = pipelineEnv(topic, bucket, {
    KAFKA_BROKERS: brokers,
    AUDIT_BATCH_MAX_EVENTS: '2000',
    // kafkajs' default would wait 30 s for a dead leader's answer
    KAFKA_REQUEST_TIMEOUT_MS: '10000',
  });

  // its warnings and its summary explain a failure
  const archiver = startArchiver({ ...env, AUDIT_LOG_LEVEL: 'warn' });
  const producing = Promise.all(
    files.map((file, p) =>
      runCli(['produce', '--from', file, '--wait', '180000'], {
        ...env,
        AUDIT_SPOOL_DIR: join(dir, `spool-${p}`),
      }),
    ),
  );

  await sleep(1500);
  const { leader, survivors } = await killLeaderOf(admin, topic, 0);
  const killedAt = Date.now();
  // a second member starts while the cluster still names the dead node as the leader
  const late = startArchiver({ ...env, AUDIT_LOG_LEVEL: 'warn' });

  for (const result of await producing) assert.equal(result.code, 0, result.stderr);
  const newLeader = await leaderOf(survivors, topic, 0);
  assert.notEqual(newLeader, leader, 'another node leads partition 0');
  t.diagnostic(
    `node ${leader} (leader of partition 0) killed; producers done ${((Date.now() - killedAt) / 1000).toFixed(1)} s later; node ${newLeader} leads now`,
  );

  // both members rode out the failover: each stops cleanly, with what it archived
  assert.equal(await stopMember(late, 60_000), 0, late.log().slice(-4000));
  assert.equal(await stopMember(archiver, 60_000), 0, archiver.log().slice(-4000));
  await assertArchivedOnce(
    store,
    env,
    topic,
    partitions,
    ids,
    () => archiver.log().slice(-3000) + late.log().slice(-3000),
  );
});

/** The ids of the events on `topic`, read by a client of `brokers` until `expected` are there or 30 s passed. */
async function idsOn(brokers: string[], topic: string, expected: number): Promise<Set<string>> {
  const consumer = clusterKafka(brokers, 'failover-read').consumer({
    groupId: `failover-read-${Date.now()}`,
  });
  const schemas = auditEventSchemas();
  const ids = new Set<string>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.value !== null)
          ids.add(decodeSingleObject<AuditEventRecord>(schemas, message.value).id);
      },
    });
    const deadline = Date.now() + 30_000;
    while (ids.size < expected && Date.now() < deadline) await sleep(200);
  } finally {
    await consumer.disconnect();
  }
  return ids;
}

test("a send under way when a partition leader dies: kafkajs resolves it without that leader's partitions, the transport sees it and sends again, every event reaches the topic", async (t) => {
  const brokers = startCluster(t);
  // retries past the leader election (several seconds): the client retry that skips partitions
  const kafka = clusterKafka(brokers, 'failover-send', { retries: 30, maxRetryTime: 2000 });
  const topic = `it-failover-send-${Date.now()}`;
  const admin = kafka.admin();
  await admin.connect();
  t.after(() => admin.disconnect());
  await createReplicated(admin, { [topic]: 6 });
  const transport = new KafkaTransport({
    kafka,
    topic,
    spoolDir: await tempDir(t),
    closeTimeoutMs: 60_000,
    logger: silentLogger(),
  });
  // closed at the end; this hook only for a failure before it (the spool folder may be gone by then)
  t.after(() => transport.close(0).catch(() => undefined));
  const schemas = auditEventSchemas();
  const idOf = (i: number): string => `0190b6a2-7c3e-7d4a-9b1e-${String(i).padStart(12, '0')}`;
  const send = (from: number, count: number): void => {
    for (let i = from; i < from + count; i++) {
      const event = record({
        id: idOf(i),
        package_name: `pkg-${i % 60}`,
      });
      transport.send(event, encodeSingleObject(schemas, event));
    }
  };
  // the producer knows every leader and is connected to each
  send(0, 120);
  await transport.flush(60_000);

  const { leader, led, survivors } = await killLeaderOf(admin, topic, 0);
  // one batch for all six partitions, sent while the metadata still names the dead leader
  send(120, 600);
  await transport.flush(90_000);
  await transport.close();
  const counts = transport.counts();
  t.diagnostic(
    `node ${leader} led ${led} of 6 partitions; ship errors ${counts.shipErrors}, producer restarts ${counts.producerRestarts}`,
  );

  const ids = await idsOn(survivors, topic, 720);
  const missing = Array.from({ length: 720 }, (_, i) => i).filter((i) => !ids.has(idOf(i)));
  assert.deepEqual(
    missing.length,
    0,
    `${missing.length} of 720 acknowledged events are not on the topic (e.g. ${missing.slice(0, 5).join(', ')})`,
  );
});
