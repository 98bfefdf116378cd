/**
 * The local stack for development and tests, with no Docker engine: Apache
 * Kafka (KRaft, one node) and S3Proxy (an S3-compatible server), both from
 * Maven Central, started on 127.0.0.1.
 *
 *   node dist/scripts/stack.js up | down [kafka|s3] | status
 *   node dist/scripts/stack.js cluster up | down | status
 *
 * `up` fetches the jars once (cached in .cache/stack), starts what is not
 * running, waits until each answers, creates the topics and the bucket, and
 * writes the connection settings to .stack/env. Running it again while the
 * stack runs is harmless. `down` stops what `up` started. `cluster` runs a
 * three-node Kafka cluster beside it, for replication and failover tests
 * (scripts/stack/cluster.ts).
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterStatus, downCluster, upCluster } from './stack/cluster.js';
import { downKafka, kafkaStatus, upKafka } from './stack/kafka.js';
import { downS3, s3Status, upS3 } from './stack/s3proxy.js';
import { ENV_FILE, fail, fetchJars, previousEnv, run, say, STACK } from './stack/shared.js';

/** Debian packages the interoperability tests use; installed when missing and we may. */
const DEBIAN_TOOLS = ['kcat', 'python3-avro', 'awscli'];

function ensureDebianTools(): void {
  const missing = DEBIAN_TOOLS.filter(
    (pkg) =>
      !spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' }).stdout.includes(
        'install ok installed',
      ),
  );
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0 || spawnSync('apt-get', ['--version']).status !== 0) {
    say(
      `missing Debian packages for the interoperability tests: apt-get install ${missing.join(' ')}`,
    );
    return;
  }
  say(`installing ${missing.join(' ')} from Debian`);
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', ...missing]);
}

/** A development key pair for signing digests, so that the stack's archive can be verified. */
function ensureDevKeys(): Record<string, string> {
  const dir = join(STACK, 'keys');
  const privatePath = join(dir, 'audit-signing.key');
  const publicPath = join(dir, 'audit-signing.pub');
  if (!existsSync(privatePath)) {
    mkdirSync(dir, { recursive: true });
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }), {
      mode: 0o600,
    });
    writeFileSync(publicPath, publicKey.export({ type: 'spki', format: 'pem' }));
    say(`development signing keys in ${dir}`);
  }
  return { AUDIT_SIGNING_KEY_FILE: privatePath, AUDIT_VERIFY_KEY_FILE: publicPath };
}

async function up(): Promise<void> {
  mkdirSync(STACK, { recursive: true });
  ensureDebianTools();
  fetchJars();
  const previous = previousEnv();
  const settings = { ...(await upKafka(previous)), ...(await upS3(previous)), ...ensureDevKeys() };
  writeFileSync(
    ENV_FILE,
    [
      '# written by scripts/stack.ts: the local stack',
      ...Object.entries(settings).map(([k, v]) => `${k}=${v}`),
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  say(`settings in ${ENV_FILE}`);
}

/** Stops both services, or only the one named (`down kafka`, `down s3`), e.g. for outage tests. */
async function down(only: string | undefined): Promise<void> {
  if (only !== undefined && only !== 'kafka' && only !== 's3')
    fail(`unknown service ${only}: kafka or s3`);
  if (only !== 's3') await downKafka();
  if (only !== 'kafka') await downS3();
}

function status(): void {
  const env = previousEnv();
  const kafka = kafkaStatus();
  const s3 = s3Status();
  say(
    kafka === undefined
      ? 'Kafka: stopped'
      : `Kafka: running, pid ${kafka}, ${env['KAFKA_BROKERS'] ?? ''}`,
  );
  say(
    s3 === undefined
      ? 'S3Proxy: stopped'
      : `S3Proxy: running, pid ${s3}, ${env['S3_ENDPOINT'] ?? ''}`,
  );
  process.exitCode = kafka === undefined || s3 === undefined ? 3 : 0;
}

async function cluster(action: string | undefined): Promise<void> {
  if (action === 'up') {
    fetchJars();
    await upCluster();
  } else if (action === 'down') await downCluster();
  else if (action === 'status') {
    const pids = clusterStatus();
    pids.forEach((pid, i) =>
      say(`cluster node ${i + 1}: ${pid === undefined ? 'stopped' : `running, pid ${pid}`}`),
    );
    process.exitCode = pids.every((pid) => pid !== undefined) ? 0 : 3;
  } else fail('usage: stack.js cluster up | down | status');
}

const command = process.argv[2];
if (command === 'up') await up();
else if (command === 'cluster') await cluster(process.argv[3]);
else if (command === 'down') await down(process.argv[3]);
else if (command === 'status') status();
else fail('usage: stack.js up | down [kafka|s3] | status | cluster up|down|status');
