import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { decodeDigest, encodeDigest, signDigest } from '../../consumers/archiver/digest.js';
import { verifyArchive, type VerifyReport } from '../../consumers/archiver/verify.js';
import { PartitionArchiver } from '../../consumers/archiver/partition-archiver.js';
import { PartitionDigester } from '../../consumers/archiver/digester.js';
import { batchPolicy } from '../../consumers/archiver/batch-policy.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { encodeSingleObject } from '../../schemas/single-object.js';
import type { LocalDirStore } from '../../consumers/object-store/local-dir-store.js';
import { AuditEvent } from '../../producer/audit-event.js';
import { AuditEventType } from '../../schemas/event-type.js';
import { collect, logRecord } from '../helpers.js';
import { embeddedArchive } from './embedded-archive.js';

const keys = generateKeyPairSync('ed25519');

/** An archive of 3 runs (so 3 digests) of 250 events in objects of 100. */
async function archive(
  t: TestContext,
  signingKey: KeyObject = keys.privateKey,
): Promise<{ store: LocalDirStore; objects: string[]; digests: string[] }> {
  const store = await embeddedArchive(t, signingKey);
  const all = await collect(store.list('events/'));
  return {
    store,
    objects: all.filter((k) => k.endsWith('.avro')),
    digests: all.filter((k) => k.endsWith('.json')),
  };
}

function kinds(report: VerifyReport): string[] {
  return report.problems.map((p) => `${p.kind} ${p.key.split('/').at(-1) ?? ''}`);
}

const verify = (store: LocalDirStore): Promise<VerifyReport> =>
  verifyArchive(store, { prefix: 'events', publicKey: keys.publicKey });

test('an untouched archive verifies: every object covered by a signed digest, chains intact', async (t) => {
  const { store, objects, digests } = await archive(t);
  assert.equal(objects.length, 9);
  assert.equal(digests.length, 3);
  const report = await verify(store);
  assert.deepEqual(report.problems, []);
  assert.deepEqual(report.pending, []);
  assert.equal(report.events, 750);
});

test('one byte changed in an object is detected as modified', async (t) => {
  const { store, objects } = await archive(t);
  const key = objects[4] as string;
  const bytes = await store.get(key);
  bytes.writeUInt8(bytes.readUInt8(bytes.length - 30) ^ 0x01, bytes.length - 30);
  await store.put(key, bytes);
  const report = await verify(store);
  assert.ok(kinds(report).includes(`modified ${key.split('/').at(-1)}`), kinds(report).join('; '));
  assert.ok(
    report.problems.some((p) => p.kind === 'reordered' && p.key === objects[5]),
    'the next object no longer links to it',
  );
});

test('a deleted object is detected as missing', async (t) => {
  const { store, objects } = await archive(t);
  await store.delete(objects[2] as string);
  const report = await verify(store);
  assert.ok(
    report.problems.some((p) => p.kind === 'missing' && p.key === objects[2]),
    kinds(report).join('; '),
  );
});

test('an object replaced by another valid object is detected', async (t) => {
  const { store, objects } = await archive(t);
  const other = await archive(t); // same offsets and keys, other events
  const key = objects[1] as string;
  const name = key.split('/').at(-1) ?? '';
  const otherKey = other.objects.find((k) => k.endsWith(name));
  assert.ok(otherKey !== undefined, 'the other archive has an object at the same offsets');
  await store.put(key, await other.store.get(otherKey));
  const report = await verify(store);
  assert.ok(
    report.problems.some((p) => p.kind === 'modified' && p.key === key),
    kinds(report).join('; '),
  );
});

test('an edited digest fails its signature', async (t) => {
  const { store, digests } = await archive(t);
  const key = digests[1] as string;
  const digest = decodeDigest(key, await store.get(key));
  digest.objects.pop(); // hide an object from the record
  await store.put(key, encodeDigest(digest));
  const report = await verify(store);
  assert.ok(
    report.problems.some((p) => p.kind === 'bad-signature' && p.key === key),
    kinds(report).join('; '),
  );
  assert.ok(
    report.problems.some((p) => p.kind === 'not-covered'),
    'the objects it listed are no longer covered',
  );
});

test('a digest signed with another key fails', async (t) => {
  const { store, digests } = await archive(t);
  const key = digests[0] as string;
  const digest = decodeDigest(key, await store.get(key));
  const { signature: _old, ...body } = digest;
  await store.put(key, encodeDigest(signDigest(body, generateKeyPairSync('ed25519').privateKey)));
  const report = await verify(store);
  assert.ok(
    report.problems.some((p) => p.kind === 'bad-signature' && p.key === key),
    kinds(report).join('; '),
  );
});

test('a whole archive signed with another key fails everywhere', async (t) => {
  const { store } = await archive(t, generateKeyPairSync('ed25519').privateKey);
  const report = await verify(store);
  assert.equal(report.problems.filter((p) => p.kind === 'bad-signature').length, 3);
});

test('a deleted digest breaks the chain of digests', async (t) => {
  const { store, digests } = await archive(t);
  await store.delete(digests[1] as string);
  const report = await verify(store);
  assert.ok(
    report.problems.some((p) => p.kind === 'broken-digest-chain' && p.key === digests[2]),
    kinds(report).join('; '),
  );
  assert.ok(report.problems.some((p) => p.kind === 'not-covered'));
});

test('objects newer than the last digest are pending, not failures', async (t) => {
  const { store, objects } = await archive(t);
  // an archiver that wrote one more object and died before its interval closed
  const archiver = new PartitionArchiver({
    store,
    prefix: 'events',
    topic: 'audit.events',
    partition: 0,
    schemas: auditEventSchemas(),
    policy: batchPolicy({ maxEvents: 10 }),
    codec: 'deflate',
    digester: new PartitionDigester({
      store,
      prefix: 'events',
      topic: 'audit.events',
      partition: 0,
      signingKey: keys.privateKey,
    }),
  });
  const next = await archiver.resume();
  let written;
  for (let i = 0; i < 10; i++) {
    const event = new AuditEvent(AuditEventType.IntegrityCheck).withPackageName('late').toRecord();
    written = await archiver.add(
      logRecord({
        offset: next + i,
        timestamp: Date.now(),
        value: encodeSingleObject(auditEventSchemas(), { ...event, source: 'h' }),
      }),
    );
  }
  assert.ok(written, 'one more object was written');
  const report = await verify(store);
  assert.deepEqual(report.problems, []);
  assert.deepEqual(report.pending, [written.key]);
  assert.equal(report.objects, objects.length + 1);
});
