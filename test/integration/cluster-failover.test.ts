import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import { readConfigFile } from '../../cli/config.js';
import { tempDir } from '../helpers.js';
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

test('three-node cluster: the partition leader killed while 4 producers publish and the archiver runs, a second member starting meanwhile; nothing lost, nothing duplicated, verify OK', async (t) => {
  const brokers = startCluster(t);
  const kafka = new kafkajs.Kafka({
    clientId: 'failover-test',
    brokers: brokers.split(','),
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const partitions = 6;
  const topic = `it-failover-${Date.now()}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [topic, `${topic}.dlq`].map((name) => ({
      topic: name,
      numPartitions: name === topic ? partitions : 1,
      replicationFactor: 3,
      configEntries: [{ name: 'min.insync.replicas', value: '2' }],
    })),
  });
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
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  const leader = metadata.topics[0]?.partitions.find((p) => p.partitionId === 0)?.leader;
  assert.ok(leader !== undefined && leader > 0, 'partition 0 has a leader');
  const pid = Number(
    readFileSync(join(ROOT, '.stack', 'cluster', `node${leader}.pid`), 'utf8').trim(),
  );
  process.kill(pid, 'SIGKILL');
  const killedAt = Date.now();
  // a second member starts while the cluster still names the dead node as the leader
  const late = startArchiver({ ...env, AUDIT_LOG_LEVEL: 'warn' });

  for (const result of await producing) assert.equal(result.code, 0, result.stderr);
  const after = await admin.fetchTopicMetadata({ topics: [topic] });
  const newLeader = after.topics[0]?.partitions.find((p) => p.partitionId === 0)?.leader;
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
