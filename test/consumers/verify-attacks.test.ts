/**
 * An attacker with write access to the bucket, but without the signing key,
 * tries to make verify accept what it must not: every attempt fails, naming
 * the cause, and the exporter does not read what verify would not accept.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { batchPolicy } from '../../consumers/archiver/batch-policy.js';
import { PartitionArchiver } from '../../consumers/archiver/partition-archiver.js';
import {
  anchorFromReport,
  verifyArchive,
  type VerifyOptions,
  type VerifyReport,
} from '../../consumers/archiver/verify.js';
import { readArchive } from '../../consumers/exporter/archive-reader.js';
import type { LocalDirStore } from '../../consumers/object-store/local-dir-store.js';
import { AuditEvent } from '../../producer/audit-event.js';
import { AuditEventType } from '../../schemas/event-type.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { encodeSingleObject } from '../../schemas/single-object.js';
import { collect, logRecord } from '../helpers.js';
import { embeddedArchive } from './embedded-archive.js';

const keys = generateKeyPairSync('ed25519');
const HOUR = 3_600_000;

/** The archive of an embedded pipeline, its digests signed (or none at all). */
const archive = (t: TestContext, signed = true): Promise<LocalDirStore> =>
  embeddedArchive(t, signed ? keys.privateKey : undefined);

const keysOf = async (store: LocalDirStore, suffix: string): Promise<string[]> =>
  (await collect(store.list('events/'))).filter((k) => k.endsWith(suffix));

const options = (extra: Partial<VerifyOptions> = {}): VerifyOptions => ({
  prefix: 'events',
  publicKey: keys.publicKey,
  expected: ['audit.events/0'],
  ...extra,
});

function kinds(report: VerifyReport): string[] {
  return report.problems.map((p) => p.kind);
}

/** Objects that continue partition `partition` of the archive, written without a digest. */
async function appendObjects(
  store: LocalDirStore,
  partition: number,
  count: number,
): Promise<string> {
  const archiver = new PartitionArchiver({
    store,
    prefix: 'events',
    topic: 'audit.events',
    partition,
    schemas: auditEventSchemas(),
    policy: batchPolicy({ maxEvents: count }),
    codec: 'deflate',
  });
  const next = await archiver.resume();
  let key = '';
  for (let i = 0; i < count; i++) {
    const event = new AuditEvent(AuditEventType.ConfigurationChange)
      .withDetail('forged', 'yes')
      .toRecord();
    const written = await archiver.add(
      logRecord({
        offset: next + i,
        timestamp: Date.now(),
        value: encodeSingleObject(auditEventSchemas(), { ...event, source: 'attacker' }),
      }),
    );
    if (written !== undefined) key = written.key;
  }
  return key;
}

test('an untouched archive verifies, with nothing pending', async (t) => {
  const report = await verifyArchive(await archive(t), options());
  assert.deepEqual(report.problems, []);
  assert.deepEqual(report.pending, []);
  assert.equal(report.events, 750);
});

test('every digest deleted: verify fails (no digests)', async (t) => {
  const store = await archive(t);
  for (const key of await keysOf(store, '.json')) await store.delete(key);
  const report = await verifyArchive(store, options());
  assert.ok(kinds(report).includes('no-digests'), kinds(report).join('; '));
});

test('a whole archive replaced by forged events without digests: verify fails', async (t) => {
  const forged = await archive(t, false);
  const report = await verifyArchive(forged, options());
  assert.ok(kinds(report).includes('no-digests'), kinds(report).join('; '));
});

test('an object under a nested key is foreign: verify fails and export does not read it', async (t) => {
  const store = await archive(t);
  const [first] = await keysOf(store, '.avro');
  const nested = (first as string).replace(/^events\/(dt=[^/]+)\//, 'events/$1/x/$1/');
  assert.notEqual(nested, first);
  await store.put(nested, await store.get(first as string));
  const report = await verifyArchive(store, options());
  assert.ok(
    report.problems.some((p) => p.kind === 'foreign' && p.key === nested),
    kinds(report).join('; '),
  );
  const exported = await collect(readArchive(store, { prefix: 'events' }));
  assert.equal(exported.length, 750, 'the copy under the nested key is not exported');
});

test('a forged new partition: verify fails (foreign partition), export does not read it', async (t) => {
  const store = await archive(t);
  await appendObjects(store, 3, 20);
  const report = await verifyArchive(store, options());
  assert.ok(kinds(report).includes('foreign-partition'), kinds(report).join('; '));
  const exported = await collect(
    readArchive(store, { prefix: 'events', expected: ['audit.events/0'] }),
  );
  assert.equal(exported.length, 750, 'the forged partition is not exported');
});

test('an object appended after the last digest with a correct chain link: pending within the grace period, a failure after it', async (t) => {
  const store = await archive(t);
  const appended = await appendObjects(store, 0, 20);
  const within = await verifyArchive(store, options({ graceMs: HOUR }));
  assert.deepEqual(within.problems, []);
  assert.deepEqual(within.pending, [appended]);
  const later = await verifyArchive(store, options({ graceMs: HOUR, now: Date.now() + 2 * HOUR }));
  assert.ok(
    later.problems.some((p) => p.kind === 'stale-pending' && p.key === appended),
    kinds(later).join('; '),
  );
});

test('a rollback (newest digest and the objects after the one before deleted) is caught by the anchor', async (t) => {
  const store = await archive(t);
  const first = await verifyArchive(store, options());
  assert.deepEqual(first.problems, []);
  const anchor = anchorFromReport(first);
  const digests = await keysOf(store, '.json');
  const newest = digests.at(-1) as string;
  await store.delete(newest);
  for (const key of (await keysOf(store, '.avro')).slice(-3)) await store.delete(key);
  const report = await verifyArchive(store, options({ anchor }));
  assert.ok(
    report.problems.some((p) => p.kind === 'anchor-mismatch'),
    kinds(report).join('; '),
  );
});

test('against the anchor: a partition that disappeared, and an archive replaced by another signed with the same key, both fail', async (t) => {
  const store = await archive(t);
  const anchor = anchorFromReport(await verifyArchive(store, options()));

  // another archive, made with the same signing key (another run, another deployment), copied over
  const other = await archive(t);
  for (const key of await collect(store.list('events/'))) await store.delete(key);
  for (const key of await collect(other.list('events/')))
    await store.put(key, await other.get(key));
  const replaced = await verifyArchive(store, options({ anchor }));
  assert.deepEqual(await verifyArchive(store, options()).then(kinds), [], 'it verifies on its own');
  assert.ok(kinds(replaced).includes('anchor-mismatch'), kinds(replaced).join('; '));

  // the partition gone altogether, and none expected but the anchor's
  for (const key of await collect(store.list('events/'))) await store.delete(key);
  const gone = await verifyArchive(store, options({ anchor, expected: undefined }));
  assert.ok(kinds(gone).includes('no-digests'), kinds(gone).join('; '));
});

test('an archiver resuming does not continue from an object planted under a nested key', async (t) => {
  const store = await archive(t);
  const objects = await keysOf(store, '.avro');
  const last = objects.at(-1) as string;
  // a copy of the last object, renamed to end far beyond it, under a nested folder
  const planted = last
    .replace(/^events\/(dt=[^/]+)\//, 'events/$1/x/$1/')
    .replace(/-\d{20}\.avro$/, '-00000000000000099999.avro');
  await store.put(planted, await store.get(last));
  const next = await new PartitionArchiver({
    store,
    prefix: 'events',
    topic: 'audit.events',
    partition: 0,
    schemas: auditEventSchemas(),
    policy: batchPolicy({}),
    codec: 'deflate',
  }).resume();
  assert.equal(next, 750, 'resumed after the last real object, not the planted one');
});
