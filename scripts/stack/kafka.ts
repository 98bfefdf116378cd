/**
 * Apache Kafka of the local stack: one KRaft node on 127.0.0.1 with three
 * listeners (plain; SASL PLAIN and SCRAM; TLS with SASL), from Maven Central.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import { ensureTopics, topicSettingsFromEnv } from '../../kafka/topics.js';
import { fail, freePort, LIB, run, runningPid, say, STACK, startJava, stopPid } from './shared.js';

const KAFKA_DIR = join(STACK, 'kafka');
const KAFKA_PID = join(STACK, 'kafka.pid');
const KAFKA_LIB = LIB.kafka;
const SASL_ENV_FILE = join(STACK, 'sasl.env');
/** Credentials of the development stack's SASL listener; nothing outside this machine uses them. */
const SASL_USER = 'audit';
const SASL_PASSWORD = 'audit-dev-secret';
const TLS_DIR = join(STACK, 'tls');
const TLS_ENV_FILE = join(STACK, 'tls.env');
const KEYSTORE_PASSWORD = 'audit-dev-keystore';
/** Bumped when the storage format of the stack changes; older data folders are formatted anew. */
const FORMAT_VERSION = '2';

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
  writeLog4j2(join(KAFKA_DIR, 'log4j2.properties'), join(KAFKA_DIR, 'logs', 'server.log'));
}

/** A log4j2 configuration that writes the server's log to `logFile`. */
export function writeLog4j2(path: string, logFile: string): void {
  writeFileSync(
    path,
    [
      'status = warn',
      'appender.file.type = File',
      'appender.file.name = FILE',
      `appender.file.fileName = ${logFile}`,
      'appender.file.layout.type = PatternLayout',
      'appender.file.layout.pattern = [%d] %p %m (%c)%n',
      'rootLogger.level = INFO',
      'rootLogger.appenderRef.file.ref = FILE',
      '',
    ].join('\n'),
  );
}

/** The java arguments that run a Kafka class with the stack's jars and a log4j2 file. */
export function kafkaJava(args: string[], log4j2 = join(KAFKA_DIR, 'log4j2.properties')): string[] {
  return ['-cp', `${KAFKA_LIB}/*`, `-Dlog4j2.configurationFile=${log4j2}`, ...args];
}

const java = (args: string[]): string[] => kafkaJava(args);

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

/** Starts Kafka unless it runs; returns its settings for .stack/env once it answers. */
export async function upKafka(previous: Record<string, string>): Promise<Record<string, string>> {
  let brokers = previous['KAFKA_BROKERS'];
  // the same ports as last time, so that the data folder and clients stay valid
  const port = brokers === undefined ? await freePort() : Number(brokers.split(':')[1]);
  const controllerPort = Number(previous['KAFKA_CONTROLLER_PORT'] ?? (await freePort()));
  const saslPort = Number(previous['KAFKA_SASL_PORT'] ?? (await freePort()));
  const tlsPort = Number(previous['KAFKA_TLS_PORT'] ?? (await freePort()));
  brokers = `127.0.0.1:${port}`;
  if (runningPid(KAFKA_PID) === undefined) {
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
    const pid = startJava(
      [
        '-Xms512m',
        '-Xmx512m',
        '-XX:+UseG1GC',
        '-XX:+ExitOnOutOfMemoryError',
        '-Djava.awt.headless=true',
        ...java(['kafka.Kafka', join(KAFKA_DIR, 'server.properties')]),
      ],
      KAFKA_PID,
      join(KAFKA_DIR, 'logs', 'stdout.log'),
    );
    say(`Kafka starting on ${brokers} (pid ${pid})`);
  }
  // the settings of the SASL and TLS listeners, complete: a client configured from one file alone connects
  writeFileSync(
    TLS_ENV_FILE,
    `# the TLS + SASL listener of the development stack\nKAFKA_BROKERS=127.0.0.1:${tlsPort}\nKAFKA_TLS=true\nKAFKA_TLS_CA_FILE=${join(TLS_DIR, 'ca.pem')}\nKAFKA_SASL_MECHANISM=scram-sha-512\nKAFKA_SASL_USERNAME=${SASL_USER}\nKAFKA_SASL_PASSWORD=${SASL_PASSWORD}\n`,
    { mode: 0o600 },
  );
  writeFileSync(
    SASL_ENV_FILE,
    `# the SASL listener of the development stack\nKAFKA_BROKERS=127.0.0.1:${saslPort}\nKAFKA_SASL_MECHANISM=scram-sha-512\nKAFKA_SASL_USERNAME=${SASL_USER}\nKAFKA_SASL_PASSWORD=${SASL_PASSWORD}\n`,
    { mode: 0o600 },
  );
  await waitForKafka(brokers, 90_000);
  const admin = new kafkajs.Kafka({
    clientId: 'stack',
    brokers: [brokers],
    logLevel: kafkajs.logLevel.NOTHING,
  }).admin();
  await admin.connect();
  await ensureTopics(admin, topicSettingsFromEnv({}));
  await admin.disconnect();
  say(`Kafka ready on ${brokers}`);
  return {
    KAFKA_BROKERS: brokers,
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    KAFKA_SASL_PORT: String(saslPort),
    KAFKA_TLS_PORT: String(tlsPort),
  };
}

export function downKafka(): Promise<void> {
  return stopPid('Kafka', KAFKA_PID);
}

export function kafkaStatus(): number | undefined {
  return runningPid(KAFKA_PID);
}
