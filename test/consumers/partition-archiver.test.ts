import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { AuditErrorCode } from '../../common/errors.js';
import { CHAIN_START, META } from '../../consumers/archiver/archive-object.js';
import { batchPolicy } from '../../consumers/archiver/batch-policy.js';
import { PartitionArchiver } from '../../consumers/archiver/partition-archiver.js';
import { isDeadLetter, type SourceRecord } from '../../consumers/runtime/record-source.js';
import { readArchive } from '../../consumers/exporter/archive-reader.js';
import { LocalDirStore } from '../../consumers/object-store/local-dir-store.js';
import { decodeContainerHeader } from '../../schemas/container.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { encodeSingleObject } from '../../schemas/single-object.js';
import { collect, eventAt, logRecord, record, tempDir } from '../helpers.js';

const schemas = auditEventSchemas();
const T0 = Date.UTC(2026, 10, 27, 9, 30);

const sourceRecord = (offset: number): SourceRecord =>
  eventAt(offset, T0, { package_name: `pkg-${offset % 3}` });

function deadLetterCode(delivered: SourceRecord): string | undefined {
  return isDeadLetter(delivered) ? delivered.decoded.error.code : undefined;
}

async function setup(t: TestContext, clock = { now: T0 }) {
  const store = new LocalDirStore(await tempDir(t));
  const make = () =>
    new PartitionArchiver({
      store,
      prefix: 'events',
      topic: 'audit.events',
      partition: 0,
      schemas,
      policy: batchPolicy({ maxEvents: 10, maxAgeMs: 1000 }),
      codec: 'deflate',
      now: () => clock.now,
    });
  return { store, make, clock };
}

async function keys(store: LocalDirStore): Promise<string[]> {
  // the archive objects; their claims live beside them under events/_claims/
  return collect(store.list('events/dt='));
}

test('batches become objects with contiguous offsets and a hash chain', async (t) => {
  const { store, make } = await setup(t);
  const archiver = make();
  assert.equal(await archiver.resume(), 0);
  for (let i = 0; i < 25; i++) await archiver.add(sourceRecord(i));
  assert.equal(archiver.archivedBelow, 20);
  await archiver.flush();
  assert.equal(archiver.archivedBelow, 25);
  const written = await keys(store);
  assert.deepEqual(
    written.map((k) => k.split('/').at(-1)),
    [
      '00000000000000000000-00000000000000000009.avro',
      '00000000000000000010-00000000000000000019.avro',
      '00000000000000000020-00000000000000000024.avro',
    ],
  );
  let prev = CHAIN_START;
  for (const key of written) {
    const bytes = await store.get(key);
    assert.equal(decodeContainerHeader(bytes).header.metadata[META.prevObjectSha256], prev);
    prev = createHash('sha256').update(bytes).digest('hex');
  }
  const ids = (await collect(readArchive(store, { prefix: 'events' }))).map((r) => r.id);
  assert.deepEqual(
    ids,
    Array.from({ length: 25 }, (_, i) => `0190b6a2-7c3e-7d4a-9b1e-${String(i).padStart(12, '0')}`),
  );
});

test('after a crash a new archiver resumes from the archive: nothing lost, nothing twice, same bytes', async (t) => {
  const { store, make } = await setup(t);
  const first = make();
  await first.resume();
  for (let i = 0; i < 25; i++) await first.add(sourceRecord(i)); // 20 archived, 5 in the open batch: lost with the process

  const second = make();
  assert.equal(await second.resume(), 20);
  for (let i = 0; i < 30; i++) await second.add(sourceRecord(i)); // the transport redelivers from an older position
  await second.flush();
  const archived = await collect(readArchive(store, { prefix: 'events' }));
  assert.equal(archived.length, 30);
  assert.equal(new Set(archived.map((r) => r.id)).size, 30);

  // a batch rebuilt from the same records has the same key and the same bytes
  const third = make();
  const keysBefore = await keys(store);
  const lastKey = keysBefore.at(-1) as string;
  const lastBytes = await store.get(lastKey);
  await store.delete(lastKey);
  assert.equal(await third.resume(), 20);
  for (let i = 20; i < 30; i++) await third.add(sourceRecord(i));
  assert.deepEqual(await keys(store), keysBefore);
  assert.deepEqual(await store.get(lastKey), lastBytes);
});

test('an undecodable record is a dead letter and its offset stays covered', async (t) => {
  const { store, make } = await setup(t);
  const archiver = make();
  await archiver.resume();
  const garbage = logRecord({ offset: 4, timestamp: T0, value: Buffer.from('not avro') });
  assert.equal(deadLetterCode(garbage), AuditErrorCode.DecodeFailed);
  for (let i = 0; i < 10; i++) await archiver.add(i === 4 ? garbage : sourceRecord(i));
  const written = await archiver.flush();
  assert.equal(written?.deadLetters, 1);
  const [key] = await keys(store);
  const meta = decodeContainerHeader(await store.get(key as string)).header.metadata;
  assert.equal(meta[META.firstOffset], '0');
  assert.equal(meta[META.lastOffset], '9');
  assert.equal(meta[META.count], '9');
});

test('an event that decodes but breaks the validation rules is a dead letter too', async (t) => {
  const { make } = await setup(t);
  const archiver = make();
  await archiver.resume();
  const invalid = encodeSingleObject(schemas, record({ success: false, error_message: null }));
  const delivered = logRecord({ offset: 0, timestamp: T0, value: invalid });
  assert.ok(isDeadLetter(delivered));
  assert.match(delivered.decoded.error.message, /error_message/);
  await archiver.add(delivered);
  const written = await archiver.flush();
  assert.deepEqual([written?.count, written?.deadLetters], [0, 1]);
});

test('an open batch is written once it is older than maxAgeMs', async (t) => {
  const { store, make, clock } = await setup(t);
  const archiver = make();
  await archiver.resume();
  await archiver.add(sourceRecord(0));
  assert.equal(await archiver.writeIfDue(), undefined);
  clock.now += 1000;
  const written = await archiver.writeIfDue();
  assert.equal(written?.reason, 'age');
  assert.equal((await keys(store)).length, 1);
});

test('an event id seen again (a producer resend at a new offset) is dropped, also after a restart', async (t) => {
  const { store, make } = await setup(t);
  const first = make();
  await first.resume();
  for (let i = 0; i < 10; i++) await first.add(sourceRecord(i)); // one object
  // offsets 10..12 carry events 3, 4 and 5 again; 13 is new
  const resend = (offset: number, original: number): SourceRecord => ({
    ...sourceRecord(original),
    offset,
  });
  await first.add(resend(10, 3));
  await first.add(resend(11, 4));

  const second = make(); // restarted: the window comes back from the archive
  assert.equal(await second.resume(), 10);
  await second.add(resend(10, 3));
  await second.add(resend(11, 4));
  await second.add(resend(12, 5));
  await second.add(sourceRecord(13));
  await second.flush();
  assert.equal(second.duplicatesDropped, 3);
  const archived = await collect(readArchive(store, { prefix: 'events' }));
  assert.equal(archived.length, 11);
  assert.equal(new Set(archived.map((r) => r.id)).size, 11);
  const [, lastKey] = await keys(store);
  const meta = decodeContainerHeader(await store.get(lastKey as string)).header.metadata;
  assert.deepEqual(
    [meta[META.firstOffset], meta[META.lastOffset], meta[META.count]],
    ['10', '13', '1'],
  );
});

test('a record past the next expected offset is refused (OFFSET_GAP): skipped offsets are never covered by an object', async (t) => {
  const { store, make } = await setup(t);
  const archiver = make();
  await archiver.resume();
  for (let offset = 0; offset < 10; offset++) await archiver.add(sourceRecord(offset));
  await archiver.flush();
  // a fresh archiver resumes at 10; a consumer that fetched on from 25 hands it 25
  const fresh = make();
  assert.equal(await fresh.resume(), 10);
  await assert.rejects(async () => fresh.add(sourceRecord(25)), { code: AuditErrorCode.OffsetGap });
  for (let offset = 10; offset < 30; offset++) await fresh.add(sourceRecord(offset));
  await fresh.flush();
  const third = make();
  assert.equal(await third.resume(), 30, 'the archive holds every offset once');
  assert.equal((await keys(store)).length, 3);
});
