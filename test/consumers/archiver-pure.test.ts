import assert from 'node:assert/strict';
import { test } from 'node:test';
import { archiveKeyFor, parseArchiveKey } from '../../consumers/archiver/archive-key.js';
import {
  buildArchiveObject,
  buildArchiveObjectAsync,
  CHAIN_START,
  eventsDigest,
  META,
} from '../../consumers/archiver/archive-object.js';
import { batchPolicy, rotationDue } from '../../consumers/archiver/batch-policy.js';
import { AuditErrorCode } from '../../common/errors.js';
import { decodeContainerHeader, readContainerRecords } from '../../schemas/container.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { record } from '../helpers.js';

const keyCases: [string, Parameters<typeof archiveKeyFor>[0], string][] = [
  [
    'first record at 23:59 UTC',
    {
      prefix: 'events',
      topic: 'audit.events',
      partition: 3,
      firstOffset: 0,
      lastOffset: 9999,
      firstRecordTime: Date.UTC(2026, 0, 31, 23, 59, 59, 999),
    },
    'events/dt=2026-01-31/hour=23/audit.events/3/00000000000000000000-00000000000000009999.avro',
  ],
  [
    'nested prefix, large offsets',
    {
      prefix: 'org/audit',
      topic: 't',
      partition: 0,
      firstOffset: 12345678901,
      lastOffset: 12345678999,
      firstRecordTime: Date.UTC(2027, 11, 1, 0, 0),
    },
    'org/audit/dt=2027-12-01/hour=00/t/0/00000000012345678901-00000000012345678999.avro',
  ],
];
for (const [name, parts, key] of keyCases) {
  test(`archive key: ${name}`, () => {
    assert.equal(archiveKeyFor(parts), key);
    const parsed = parseArchiveKey(key);
    assert.ok(parsed);
    assert.equal(parsed.prefix, parts.prefix);
    assert.equal(parsed.topic, parts.topic);
    assert.equal(parsed.partition, parts.partition);
    assert.equal(parsed.firstOffset, parts.firstOffset);
    assert.equal(parsed.lastOffset, parts.lastOffset);
    assert.equal(parsed.hourStart, Math.floor(parts.firstRecordTime / 3_600_000) * 3_600_000);
  });
}

test('keys that are not archive objects do not parse', () => {
  for (const key of [
    'events/dt=2026-01-01/hour=00/t/0/1-2.avro',
    'events-dlq/t/0/00000000000000000001.bin',
    'events/dt=2026-13-01/hour=00/t/0/00000000000000000000-00000000000000000001.avro',
  ]) {
    assert.equal(parseArchiveKey(key), undefined, key);
  }
});

test('batch rotation by events, bytes and age', () => {
  const policy = batchPolicy({ maxEvents: 10, maxBytes: 1000, maxAgeMs: 5000 });
  assert.equal(rotationDue(policy, { events: 9, bytes: 999, openedAt: 0 }, 4999), undefined);
  assert.equal(rotationDue(policy, { events: 10, bytes: 0, openedAt: 0 }, 0), 'events');
  assert.equal(rotationDue(policy, { events: 1, bytes: 1000, openedAt: 0 }, 0), 'bytes');
  assert.equal(rotationDue(policy, { events: 1, bytes: 1, openedAt: 0 }, 5000), 'age');
  assert.equal(rotationDue(policy, { events: 0, bytes: 0, openedAt: 0 }, 99999), undefined);
});

test('batch policy refuses bad values, naming them', () => {
  assert.throws(() => batchPolicy({ maxEvents: 0 }), {
    code: AuditErrorCode.InvalidOption,
    field: 'batch.maxEvents',
  });
  assert.throws(() => batchPolicy({ maxAgeMs: 1.5 }), {
    code: AuditErrorCode.InvalidOption,
    field: 'batch.maxAgeMs',
  });
});

test('an archive object carries its provenance and chain link, and is deterministic', async () => {
  const schemas = auditEventSchemas();
  const events = Array.from({ length: 2500 }, (_, i) =>
    record({ id: `0190b6a2-7c3e-7d4a-9b1e-${String(i).padStart(12, '0')}` }),
  );
  const bodies = events.map((e) => schemas.reader.type.toBuffer(e));
  const batch = {
    topic: 'audit.events',
    partition: 2,
    firstOffset: 100,
    lastOffset: 2599,
    bodies,
    writer: schemas.reader,
    codec: 'deflate' as const,
    prevObjectSha256: CHAIN_START,
  };
  const object = buildArchiveObject(batch);
  assert.deepEqual(buildArchiveObject(batch).bytes, object.bytes);
  // compressed in the thread pool, block by block at once: the very same bytes
  assert.deepEqual(await buildArchiveObjectAsync(batch), object);
  assert.deepEqual(
    (await buildArchiveObjectAsync({ ...batch, codec: 'null' })).bytes,
    buildArchiveObject({ ...batch, codec: 'null' }).bytes,
  );
  const { header } = decodeContainerHeader(object.bytes);
  assert.deepEqual(header.metadata, {
    [META.topic]: 'audit.events',
    [META.partition]: '2',
    [META.firstOffset]: '100',
    [META.lastOffset]: '2599',
    [META.count]: '2500',
    [META.schemaFingerprint]: schemas.reader.fingerprintHex,
    [META.eventsSha256]: eventsDigest(bodies),
    [META.prevObjectSha256]: CHAIN_START,
  });
  assert.deepEqual(
    [...readContainerRecords<object>(object.bytes, schemas)].map((r) => ({ ...r })),
    events,
  );
  const next = buildArchiveObject({
    ...batch,
    firstOffset: 2600,
    lastOffset: 5099,
    prevObjectSha256: object.sha256,
  });
  assert.equal(
    decodeContainerHeader(next.bytes).header.metadata[META.prevObjectSha256],
    object.sha256,
  );
});
