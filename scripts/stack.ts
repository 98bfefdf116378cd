/**
 * The local stack for development and tests, with no Docker engine: Apache
 * Kafka (KRaft, one node) from Maven Central, started on 127.0.0.1.
 *
 *   node dist/scripts/stack.js up | down | status
 *
 * `up` fetches the jars once (cached in .cache/stack), formats the storage once,
 * starts what is not running, waits until it answers, creates the pipeline's
 * topics and writes the connection settings to .stack/env. Running it again
 * while the stack runs is harmless. `down` stops what `up` started.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { readConfigFile } from '../cli/config.js';
import { ensureTopics, topicSettingsFromEnv } from '../kafka/topics.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const STACK = join(ROOT, '.stack');
const CACHE = join(ROOT, '.cache', 'stack');
const ENV_FILE = join(STACK, 'env');
const KAFKA_LIB = join(CACHE, 'lib', 'kafka');
const KAFKA_DIR = join(STACK, 'kafka');
const KAFKA_PID = join(STACK, 'kafka.pid');
const POM = join(ROOT, 'scripts', 'stack', 'pom.xml');
const SASL_ENV_FILE = join(STACK, 'sasl.env');
/** Credentials of the development stack's SASL listener; nothing outside this machine uses them. */
const SASL_USER = 'audit';
const SASL_PASSWORD = 'audit-dev-secret';
const TLS_DIR = join(STACK, 'tls');
const TLS_ENV_FILE = join(STACK, 'tls.env');
const KEYSTORE_PASSWORD = 'audit-dev-keystore';
/** Bumped when the storage format of the stack changes; older data folders are formatted anew. */
const FORMAT_VERSION = '2';
const DEBIAN_TOOLS: Record<string, string> = { kcat: 'kcat', 'python3-avro': 'python3-avro' };

function say(line: string): void {
  process.stdout.write(`stack: ${line}\n`);
}

function fail(line: string): never {
  process.stderr.write(`stack: ${line}\n`);
  process.exit(1);
}

function run(
  command: string,
  args: string[],
  options: { cwd?: string; quiet?: boolean } = {},
): string {
  const result = spawnSync(command, args, { cwd: options.cwd, encoding: 'utf8' });
  if (result.error !== undefined) fail(`cannot run ${command}: ${result.error.message}`);
  if (result.status !== 0)
    fail(`${command} ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function runningPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolvePort(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

function stackEnv(): Record<string, string> {
  return existsSync(ENV_FILE) ? readConfigFile(ENV_FILE) : {};
}

/** Debian tools the interoperability tests use; installed when missing and we may. */
function ensureDebianTools(): void {
  const missing = Object.entries(DEBIAN_TOOLS)
    .filter(
      ([, pkg]) =>
        spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' }).stdout.includes(
          'install ok installed',
        ) === false,
    )
    .map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0 || spawnSync('apt-get', ['--version']).status !== 0) {
    say(
      `missing Debian packages for the interoperability tests: ${missing.join(' ')} (apt-get install ${missing.join(' ')})`,
    );
    return;
  }
  say(`installing ${missing.join(' ')} from Debian`);
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', ...missing]);
}

function fetchKafka(): void {
  const marker = join(KAFKA_LIB, '.complete');
  const pom = readFileSync(POM, 'utf8');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === pom) return;
  if (spawnSync('java', ['-version']).status !== 0) fail('java is needed (Java 17 or newer)');
  if (spawnSync('mvn', ['--version']).status !== 0)
    fail('mvn (Apache Maven) is needed to fetch Kafka from Maven Central');
  say('fetching Apache Kafka from Maven Central (once)');
  rmSync(KAFKA_LIB, { recursive: true, force: true });
  run('mvn', [
    '-q',
    '-B',
    '-f',
    POM,
    `-Dstack.kafka.lib=${KAFKA_LIB}`,
    'dependency:copy-dependencies@kafka',
  ]);
  writeFileSync(marker, pom);
}

/**
 * A development CA and a server certificate for 127.0.0.1, made once with
 * openssl, so that the tests can check TLS toward the broker end to end.
 */
function ensureTlsMaterial(): void {
  if (existsSync(join(TLS_DIR, 'server.p12'))) return;
  mkdirSync(TLS_DIR, { recursive: true });
  const at = (name: string): string => join(TLS_DIR, name);
  const days = '3650';
  run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.pem'),
    '-days',
    days,
    '-subj',
    '/CN=audit-trail development CA',
  ]);
  run('openssl', [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    at('server.key'),
    '-out',
    at('server.csr'),
    '-subj',
    '/CN=127.0.0.1',
  ]);
  writeFileSync(at('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run('openssl', [
    'x509',
    '-req',
    '-in',
    at('server.csr'),
    '-CA',
    at('ca.pem'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-out',
    at('server.pem'),
    '-days',
    days,
    '-extfile',
    at('server.ext'),
  ]);
  run('openssl', [
    'pkcs12',
    '-export',
    '-in',
    at('server.pem'),
    '-inkey',
    at('server.key'),
    '-out',
    at('server.p12'),
    '-passout',
    `pass:${KEYSTORE_PASSWORD}`,
    '-name',
    'kafka',
  ]);
}

function kafkaConfig(
  port: number,
  controllerPort: number,
  saslPort: number,
  tlsPort: number,
): void {
  mkdirSync(join(KAFKA_DIR, 'logs'), { recursive: true });
  writeFileSync(
    join(KAFKA_DIR, 'server.properties'),
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort},SASL_PLAINTEXT://127.0.0.1:${saslPort},SASL_SSL://127.0.0.1:${tlsPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:${saslPort},SASL_SSL://127.0.0.1:${tlsPort}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL',
      // and one with TLS and SASL, as a production cluster would have
      'ssl.keystore.type=PKCS12',
      `ssl.keystore.location=${join(TLS_DIR, 'server.p12')}`,
      `ssl.keystore.password=${KEYSTORE_PASSWORD}`,
      `ssl.key.password=${KEYSTORE_PASSWORD}`,
      `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
      `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${SASL_USER}="${SASL_PASSWORD}";`,
      `listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
      // a second listener with SASL, so that the tests can check PLAIN and SCRAM end to end
      'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
      `listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${SASL_USER}="${SASL_PASSWORD}";`,
      'listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
      'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
      `log.dirs=${join(KAFKA_DIR, 'data')}`,
      'num.partitions=1',
      'auto.create.topics.enable=false',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=3',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'transaction.state.log.num.partitions=3',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(KAFKA_DIR, 'log4j2.properties'),
    [
      'status = warn',
      'appender.file.type = File',
      'appender.file.name = FILE',
      `appender.file.fileName = ${join(KAFKA_DIR, 'logs', 'server.log')}`,
      'appender.file.layout.type = PatternLayout',
      'appender.file.layout.pattern = [%d] %p %m (%c)%n',
      'rootLogger.level = INFO',
      'rootLogger.appenderRef.file.ref = FILE',
      '',
    ].join('\n'),
  );
}

function java(args: string[]): string[] {
  return [
    '-cp',
    `${KAFKA_LIB}/*`,
    `-Dlog4j2.configurationFile=${join(KAFKA_DIR, 'log4j2.properties')}`,
    ...args,
  ];
}

async function waitForKafka(brokers: string, timeoutMs: number): Promise<void> {
  const kafka = new kafkajs.Kafka({
    clientId: 'stack',
    brokers: [brokers],
    logLevel: kafkajs.logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 1000,
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length > 0 && cluster.controller !== null) {
        // Make the broker load its group and transaction coordinators now, not in the first test.
        await admin.describeGroups(['stack-warmup']);
        await admin.disconnect();
        const warm = new kafkajs.Kafka({
          clientId: 'stack',
          brokers: [brokers],
          logLevel: kafkajs.logLevel.NOTHING,
        });
        const producer = warm.producer({ idempotent: true, maxInFlightRequests: 1 });
        await producer.connect();
        await producer.disconnect();
        return;
      }
    } catch {
      // not up yet
    }
    await admin.disconnect().catch(() => undefined);
    await sleep(250);
  }
  fail(
    `Kafka did not answer within ${timeoutMs / 1000} s; see ${join(KAFKA_DIR, 'logs', 'server.log')}`,
  );
}

async function up(): Promise<void> {
  mkdirSync(STACK, { recursive: true });
  ensureDebianTools();
  const env = stackEnv();
  let brokers = env['KAFKA_BROKERS'];
  if (runningPid(KAFKA_PID) === undefined) {
    fetchKafka();
    // the same ports as last time, so that the data folder and clients stay valid
    const port = brokers === undefined ? await freePort() : Number(brokers.split(':')[1]);
    const controllerPort = Number(env['KAFKA_CONTROLLER_PORT'] ?? (await freePort()));
    const saslPort = Number(env['KAFKA_SASL_PORT'] ?? (await freePort()));
    const tlsPort = Number(env['KAFKA_TLS_PORT'] ?? (await freePort()));
    brokers = `127.0.0.1:${port}`;
    ensureTlsMaterial();
    kafkaConfig(port, controllerPort, saslPort, tlsPort);
    const formatMarker = join(KAFKA_DIR, 'FORMAT_VERSION');
    const formatted = existsSync(join(KAFKA_DIR, 'data', 'meta.properties'));
    if (
      formatted &&
      (!existsSync(formatMarker) || readFileSync(formatMarker, 'utf8') !== FORMAT_VERSION)
    ) {
      say('the stack data folder is from an older version of this script: formatting it anew');
      rmSync(join(KAFKA_DIR, 'data'), { recursive: true, force: true });
    }
    if (!existsSync(join(KAFKA_DIR, 'data', 'meta.properties'))) {
      const clusterId = run('java', java(['kafka.tools.StorageTool', 'random-uuid'])).trim();
      run(
        'java',
        java([
          'kafka.tools.StorageTool',
          'format',
          '--cluster-id',
          clusterId,
          '--config',
          join(KAFKA_DIR, 'server.properties'),
          '--add-scram',
          `SCRAM-SHA-256=[name=${SASL_USER},password=${SASL_PASSWORD}]`,
          '--add-scram',
          `SCRAM-SHA-512=[name=${SASL_USER},password=${SASL_PASSWORD}]`,
        ]),
      );
      writeFileSync(formatMarker, FORMAT_VERSION);
    }
    const out = openSync(join(KAFKA_DIR, 'logs', 'stdout.log'), 'a');
    const child = spawn(
      'java',
      [
        '-Xms512m',
        '-Xmx512m',
        '-XX:+UseG1GC',
        '-XX:+ExitOnOutOfMemoryError',
        '-Djava.awt.headless=true',
        ...java(['kafka.Kafka', join(KAFKA_DIR, 'server.properties')]),
      ],
      { detached: true, stdio: ['ignore', out, out] },
    );
    child.unref();
    writeFileSync(KAFKA_PID, String(child.pid));
    writeFileSync(
      ENV_FILE,
      `# written by scripts/stack.ts\nKAFKA_BROKERS=${brokers}\nKAFKA_CONTROLLER_PORT=${controllerPort}\nKAFKA_SASL_PORT=${saslPort}\nKAFKA_TLS_PORT=${tlsPort}\n`,
    );
    writeFileSync(
      TLS_ENV_FILE,
      `# the TLS + SASL listener of the development stack\nKAFKA_BROKERS=127.0.0.1:${tlsPort}\nKAFKA_TLS=true\nKAFKA_TLS_CA_FILE=${join(TLS_DIR, 'ca.pem')}\nKAFKA_SASL_MECHANISM=scram-sha-512\nKAFKA_SASL_USERNAME=${SASL_USER}\nKAFKA_SASL_PASSWORD=${SASL_PASSWORD}\n`,
      { mode: 0o600 },
    );
    writeFileSync(
      SASL_ENV_FILE,
      `# the SASL listener of the development stack\nKAFKA_BROKERS=127.0.0.1:${saslPort}\nKAFKA_SASL_USERNAME=${SASL_USER}\nKAFKA_SASL_PASSWORD=${SASL_PASSWORD}\n`,
      { mode: 0o600 },
    );
    say(`Kafka starting on ${brokers} (pid ${child.pid})`);
  }
  if (brokers === undefined)
    fail(`Kafka runs but ${ENV_FILE} is missing; run stack:down, then stack:up`);
  await waitForKafka(brokers, 90_000);
  const admin = new kafkajs.Kafka({
    clientId: 'stack',
    brokers: [brokers],
    logLevel: kafkajs.logLevel.NOTHING,
  }).admin();
  await admin.connect();
  await ensureTopics(admin, topicSettingsFromEnv({}));
  await admin.disconnect();
  say(`Kafka ready on ${brokers}; settings in ${ENV_FILE}`);
}

async function down(): Promise<void> {
  const pid = runningPid(KAFKA_PID);
  if (pid === undefined) {
    say('Kafka is not running');
    return;
  }
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(200);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(KAFKA_PID, { force: true });
  say(`Kafka stopped (pid ${pid})`);
}

function status(): void {
  const pid = runningPid(KAFKA_PID);
  const env = stackEnv();
  say(
    pid === undefined
      ? 'Kafka: stopped'
      : `Kafka: running, pid ${pid}, ${env['KAFKA_BROKERS'] ?? 'address unknown'}`,
  );
  process.exitCode = pid === undefined ? 3 : 0;
}

const command = process.argv[2];
if (command === 'up') await up();
else if (command === 'down') await down();
else if (command === 'status') status();
else fail('usage: stack.js up | down | status');
