/**
 * A three-node Apache Kafka cluster (KRaft; every node is broker and
 * controller) on 127.0.0.1, for tests of replication and leader failover. It
 * runs beside the single-node stack, with ports and data of its own:
 *
 *   node dist/scripts/stack.js cluster up | down | status
 *
 * Internal topics are replicated three times; `min.insync.replicas` is 2, so
 * that an acks=all write survives the loss of any one node. `up` starts the
 * nodes that are not running (again on the same ports) and waits until all
 * three are in the cluster (once more from nothing on new ports if they do
 * not form); the settings go to .stack/cluster.env.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import { readConfigFile } from '../../cli/config.js';
import { kafkaJava, writeLog4j2 } from './kafka.js';
import {
  fail,
  freePort,
  logTail,
  run,
  runningPid,
  say,
  STACK,
  startJava,
  stopPid,
} from './shared.js';

export const CLUSTER_DIR = join(STACK, 'cluster');
export const CLUSTER_ENV = join(STACK, 'cluster.env');
const NODES = [1, 2, 3] as const;

export const nodePidFile = (node: number): string => join(CLUSTER_DIR, `node${node}.pid`);

interface ClusterPorts {
  clusterId: string;
  brokers: number[];
  controllers: number[];
}

async function clusterPorts(): Promise<ClusterPorts> {
  if (existsSync(CLUSTER_ENV)) {
    const env = readConfigFile(CLUSTER_ENV);
    const ports = (name: string): number[] =>
      (env[name] ?? '').split(',').map((hostPort) => Number(hostPort.split(':').at(-1)));
    const clusterId = env['KAFKA_CLUSTER_ID'];
    if (clusterId !== undefined)
      return {
        clusterId,
        brokers: ports('KAFKA_BROKERS'),
        controllers: ports('KAFKA_CONTROLLERS'),
      };
  }
  const all: number[] = [];
  for (let i = 0; i < 6; i++) all.push(await freePort());
  const clusterId = run('java', kafkaJava(['kafka.tools.StorageTool', 'random-uuid'])).trim();
  return { clusterId, brokers: all.slice(0, 3), controllers: all.slice(3) };
}

function nodeConfig(node: number, ports: ClusterPorts): string {
  const dir = join(CLUSTER_DIR, `node${node}`);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const broker = ports.brokers[node - 1] as number;
  const controller = ports.controllers[node - 1] as number;
  const voters = NODES.map((n) => `${n}@127.0.0.1:${ports.controllers[n - 1]}`).join(',');
  const config = join(dir, 'server.properties');
  writeFileSync(
    config,
    [
      'process.roles=broker,controller',
      `node.id=${node}`,
      `controller.quorum.voters=${voters}`,
      `listeners=PLAINTEXT://127.0.0.1:${broker},CONTROLLER://127.0.0.1:${controller}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${broker}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      `log.dirs=${join(dir, 'data')}`,
      'num.partitions=1',
      'default.replication.factor=3',
      'min.insync.replicas=2',
      'unclean.leader.election.enable=false',
      'auto.create.topics.enable=false',
      'offsets.topic.replication.factor=3',
      'offsets.topic.num.partitions=3',
      'transaction.state.log.replication.factor=3',
      'transaction.state.log.min.isr=2',
      'transaction.state.log.num.partitions=3',
      'share.coordinator.state.topic.replication.factor=3',
      'share.coordinator.state.topic.min.isr=2',
      'group.initial.rebalance.delay.ms=0',
      '',
    ].join('\n'),
  );
  writeLog4j2(join(dir, 'log4j2.properties'), join(dir, 'logs', 'server.log'));
  return config;
}

function startNode(node: number, ports: ClusterPorts): void {
  const dir = join(CLUSTER_DIR, `node${node}`);
  const config = nodeConfig(node, ports);
  const log4j2 = join(dir, 'log4j2.properties');
  if (!existsSync(join(dir, 'data', 'meta.properties'))) {
    run(
      'java',
      kafkaJava(
        ['kafka.tools.StorageTool', 'format', '--cluster-id', ports.clusterId, '--config', config],
        log4j2,
      ),
    );
  }
  const pid = startJava(
    [
      '-Xms384m',
      '-Xmx384m',
      '-XX:+UseG1GC',
      '-XX:+ExitOnOutOfMemoryError',
      '-Djava.awt.headless=true',
      ...kafkaJava(['kafka.Kafka', config], log4j2),
    ],
    nodePidFile(node),
    join(dir, 'logs', 'stdout.log'),
  );
  say(`cluster node ${node} starting on 127.0.0.1:${ports.brokers[node - 1]} (pid ${pid})`);
}

/** Why the cluster is not formed yet: undefined once it is. */
async function clusterState(kafka: kafkajs.Kafka): Promise<string | undefined> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length !== NODES.length || cluster.controller === null)
      return `${cluster.brokers.length} of ${NODES.length} brokers registered, controller ${cluster.controller ?? 'none'}`;
    await admin.describeGroups(['stack-warmup']);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Waits until all three nodes are in the cluster; the reason when they are not by `timeoutMs`. */
async function waitForCluster(brokers: string[], timeoutMs: number): Promise<string | undefined> {
  const kafka = new kafkajs.Kafka({
    clientId: 'stack',
    brokers,
    logLevel: kafkajs.logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 1000,
  });
  const deadline = Date.now() + timeoutMs;
  let reason: string | undefined = 'not started';
  while (Date.now() < deadline) {
    const dead = NODES.filter((node) => runningPid(nodePidFile(node)) === undefined);
    if (dead.length > 0) return `node ${dead.join(', ')} exited`;
    reason = await clusterState(kafka);
    if (reason === undefined) return undefined;
    await sleep(500);
  }
  return `not formed within ${timeoutMs / 1000} s (${reason})`;
}

function nodeLogs(): string {
  return NODES.map((node) => {
    const logs = join(CLUSTER_DIR, `node${node}`, 'logs');
    return `--- node ${node}: ${logs}/server.log (end)\n${logTail(join(logs, 'server.log'))}\n--- node ${node}: stdout.log (end)\n${logTail(join(logs, 'stdout.log'), 5)}`;
  }).join('\n');
}

/**
 * Starts the nodes that are not running and waits for the cluster. A cluster
 * that does not form (a node that cannot bind its port, a quorum that does not
 * come up on a loaded machine) is started once more from nothing, on new ports;
 * the second failure is reported with the end of each node's log.
 */
export async function upCluster(): Promise<void> {
  const attempts = 2;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const brokers = await startNodes();
    const reason = await waitForCluster(brokers, 90_000);
    if (reason === undefined) {
      say(`Kafka cluster ready on ${brokers.join(',')}; settings in ${CLUSTER_ENV}`);
      return;
    }
    if (attempt === attempts)
      fail(`the Kafka cluster did not form: ${reason}; the nodes' logs:\n${nodeLogs()}`);
    say(`the Kafka cluster did not form (${reason}); starting it again on new ports`);
    process.stdout.write(`${nodeLogs()}\n`);
    await downCluster();
    rmSync(CLUSTER_DIR, { recursive: true, force: true });
    rmSync(CLUSTER_ENV, { force: true });
  }
}

async function startNodes(): Promise<string[]> {
  mkdirSync(CLUSTER_DIR, { recursive: true });
  const ports = await clusterPorts();
  const brokers = ports.brokers.map((port) => `127.0.0.1:${port}`);
  writeFileSync(
    CLUSTER_ENV,
    [
      '# written by scripts/stack.ts: the three-node Kafka cluster',
      `KAFKA_BROKERS=${brokers.join(',')}`,
      `KAFKA_CONTROLLERS=${ports.controllers.map((port) => `127.0.0.1:${port}`).join(',')}`,
      `KAFKA_CLUSTER_ID=${ports.clusterId}`,
      'AUDIT_TOPIC_REPLICATION=3',
      'AUDIT_TOPIC_MIN_INSYNC=2',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  for (const node of NODES) if (runningPid(nodePidFile(node)) === undefined) startNode(node, ports);
  return brokers;
}

export async function downCluster(): Promise<void> {
  for (const node of NODES) await stopPid(`cluster node ${node}`, nodePidFile(node));
}

export function clusterStatus(): (number | undefined)[] {
  return NODES.map((node) => runningPid(nodePidFile(node)));
}
