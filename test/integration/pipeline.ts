/**
 * The whole pipeline against the local stack: the environment of a CLI run
 * (Kafka transport, S3 archive, the stack's signing keys), archiver members as
 * real `audit-trail archive` processes, and a reader that checks an archive's
 * partitions as verify would and returns their events.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import { readConfigFile } from '../../cli/config.js';
import { META } from '../../consumers/archiver/archive-object.js';
import { archivedObjects } from '../../consumers/archiver/archive-resume.js';
import type { ObjectStore } from '../../consumers/object-store/object-store.js';
import { decodeContainerHeader, readContainerRecords } from '../../schemas/container.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { brokers, MAIN, runCli, s3Settings, STACK_ENV } from './stack.js';

export const PREFIX = 'events';

/** The environment of a CLI run on `topic` with its archive in `bucket`. */
export function pipelineEnv(
  topic: string,
  bucket: string,
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  const s = s3Settings();
  const stackEnv = readConfigFile(STACK_ENV);
  return {
    ...process.env,
    AUDIT_TRANSPORT: 'kafka',
    KAFKA_BROKERS: brokers(),
    AUDIT_TOPIC: topic,
    AUDIT_ARCHIVE_STORE: 's3',
    AUDIT_ARCHIVE_PREFIX: PREFIX,
    S3_ENDPOINT: s.endpoint,
    S3_BUCKET: bucket,
    AWS_REGION: s.region,
    AWS_ACCESS_KEY_ID: s.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s.credentials.secretAccessKey,
    AUDIT_ARCHIVER_SESSION_TIMEOUT_MS: '6000',
    // the development key pair of the local stack signs the digests and verifies them
    AUDIT_SIGNING_KEY_FILE: stackEnv['AUDIT_SIGNING_KEY_FILE'],
    AUDIT_VERIFY_KEY_FILE: stackEnv['AUDIT_VERIFY_KEY_FILE'],
    AUDIT_LOG_LEVEL: 'error',
    // a spool of its own: records left in a shared one (access records of exports) would be
    // shipped into the next test's topic
    AUDIT_SPOOL_DIR: testSpoolDir(),
    ...extra,
  };
}

const spoolDirs: string[] = [];
process.once('exit', () => {
  for (const dir of spoolDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh spool folder, removed when the test process exits. */
function testSpoolDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'audit-trail-it-spool-'));
  spoolDirs.push(dir);
  return join(dir, 'spool');
}

/** A command of the CLI running as its own process (a group member), with what it printed. */
export interface MemberProcess {
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  log: () => string;
  exited: Promise<number | null>;
}

/** The archiver tests' name for a member process. */
export type ArchiverProcess = MemberProcess;

/** `audit-trail <args>` as a process of its own (a member of a consumer group). */
export function startMember(env: NodeJS.ProcessEnv, args: readonly string[]): MemberProcess {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, log: () => log, exited };
}

/** `audit-trail archive` as a group member of its own process. */
export function startArchiver(env: NodeJS.ProcessEnv, args: string[] = []): MemberProcess {
  return startMember(env, ['archive', ...args]);
}

/** SIGTERM, then the exit code; fails the test (after a SIGKILL) when it does not stop in time. */
export async function stopMember(
  member: MemberProcess,
  timeoutMs = 20_000,
): Promise<number | null> {
  member.child.kill('SIGTERM');
  const code = await Promise.race([member.exited, sleep(timeoutMs).then(() => 'hung' as const)]);
  if (code === 'hung') {
    member.child.kill('SIGKILL');
    assert.fail(`the member did not stop within ${timeoutMs} ms:\n${member.log()}`);
  }
  return code;
}

export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

export interface ArchiveContents {
  events: AuditEventRecord[];
  objects: number;
  bytes: number;
}

/** Every partition's objects in offset order: ranges must be contiguous from 0 and never overlap. */
export async function readPartitions(
  store: ObjectStore,
  topic: string,
  partitions: number,
): Promise<ArchiveContents> {
  const events: AuditEventRecord[] = [];
  let objects = 0;
  let bytes = 0;
  for (let partition = 0; partition < partitions; partition++) {
    let expectedFirst = 0;
    for (const ref of await archivedObjects(store, PREFIX, topic, partition)) {
      assert.equal(
        ref.firstOffset,
        expectedFirst,
        `partition ${partition}: ${ref.key} must start at ${expectedFirst} (no gap, no overlap)`,
      );
      const content = await store.get(ref.key);
      const meta = decodeContainerHeader(content).header.metadata;
      assert.equal(meta[META.lastOffset], String(ref.lastOffset));
      events.push(...readContainerRecords<AuditEventRecord>(content, auditEventSchemas()));
      expectedFirst = ref.lastOffset + 1;
      objects++;
      bytes += content.length;
    }
  }
  return { events, objects, bytes };
}

/**
 * The end of every exactly-once scenario: `archive --once` as the only member,
 * then each of `ids` exactly once in contiguous, non-overlapping objects, and
 * `verify` OK.
 */
export async function assertArchivedOnce(
  store: ObjectStore,
  env: NodeJS.ProcessEnv,
  topic: string,
  partitions: number,
  ids: ReadonlySet<string>,
  /** More to say when events are missing, e.g. the log of the archiver that ran before. */
  context?: () => string,
): Promise<ArchiveContents> {
  const final = await runCli(['archive', '--once'], env);
  assert.equal(final.code, 0, final.stderr);
  const archive = await readPartitions(store, topic, partitions);
  assert.deepEqual([...duplicateIds(archive.events)].slice(0, 5), [], 'no id archived twice');
  if (archive.events.length !== ids.size)
    assert.fail(
      `every event archived: ${archive.events.length} of ${ids.size} (archive --once: ${final.stdout.trim()}; ${archive.objects} objects)\n` +
        `${await partitionEnds(store, env, topic, partitions)}\n${final.stderr.slice(-4000)}${context === undefined ? '' : `\n${context()}`}`,
    );
  assert.deepEqual(new Set(archive.events.map((e) => e.id)), ids);
  const verified = await runCli(['verify'], env);
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  return archive;
}

/**
 * Per partition, where the archive ends, what the group committed and where the
 * topic ends: tells events that never reached the topic from events the
 * archiver skipped.
 */
async function partitionEnds(
  store: ObjectStore,
  env: NodeJS.ProcessEnv,
  topic: string,
  partitions: number,
): Promise<string> {
  const kafka = new kafkajs.Kafka({
    clientId: 'archived-once-check',
    brokers: (env['KAFKA_BROKERS'] ?? brokers()).split(','),
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const high = await admin.fetchTopicOffsets(topic);
    const groupId = env['AUDIT_ARCHIVER_GROUP'] ?? 'audit-archiver';
    const committed = (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions;
    const lines: string[] = [];
    for (let partition = 0; partition < partitions; partition++) {
      const objects = await archivedObjects(store, PREFIX, topic, partition);
      lines.push(
        `partition ${partition}: archive ends at ${(objects.at(-1)?.lastOffset ?? -1) + 1}, ` +
          `group ${groupId} committed ${committed?.find((p) => p.partition === partition)?.offset ?? '?'}, ` +
          `topic ends at ${high.find((p) => p.partition === partition)?.high ?? '?'}`,
      );
    }
    return lines.join('\n');
  } catch (error) {
    return `(cannot read the partition ends: ${(error as Error).message})`;
  } finally {
    await admin.disconnect();
  }
}

/** Ids that occur more than once, with their counts. */
export function duplicateIds(events: readonly AuditEventRecord[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const event of events) counts.set(event.id, (counts.get(event.id) ?? 0) + 1);
  return new Map([...counts].filter(([, n]) => n > 1));
}
