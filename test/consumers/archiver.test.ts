import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { join } from 'node:path';
import { test } from 'node:test';
import kafkajs, { type Kafka } from 'kafkajs';
import { AuditErrorCode } from '../../common/errors.js';
import { Spool } from '../../common/spool/spool.js';
import type { Archiver } from '../../consumers/archiver/archiver.js';
import { spoolArchiver } from '../../consumers/archiver/spool-archiver.js';
import { META } from '../../consumers/archiver/archive-object.js';
import { verifyArchive } from '../../consumers/archiver/verify.js';
import { LocalDirStore } from '../../consumers/object-store/local-dir-store.js';
import { GroupConsumer } from '../../consumers/runtime/group-consumer.js';
import { decodeContainerHeader } from '../../schemas/container.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { encodeSingleObject } from '../../schemas/single-object.js';
import { collect, record, tempDir } from '../helpers.js';

/** A spool in `dir` holding `count` valid events, ids numbered from 0; its folder. */
async function spoolOfEvents(dir: string, count: number): Promise<string> {
  const spoolDir = join(dir, 'spool');
  const spool = new Spool({ dir: spoolDir });
  const schemas = auditEventSchemas();
  for (let i = 0; i < count; i++)
    spool.append(
      encodeSingleObject(
        schemas,
        record({ id: `0190b6a2-7c3e-7d4a-9b1e-${String(i).padStart(12, '0')}` }),
      ),
    );
  await spool.close();
  return spoolDir;
}

test('records that do not decode go to the dead letters once, beside the archive, and keep their offsets in the range', async (t) => {
  const dir = await tempDir(t);
  const spoolDir = join(dir, 'spool');
  const spool = new Spool({ dir: spoolDir });
  const schemas = auditEventSchemas();
  const invalid = encodeSingleObject(schemas, record({ success: false, error_message: null }));
  for (let i = 0; i < 10; i++) {
    const id = `0190b6a2-7c3e-7d4a-9b1e-${String(i).padStart(12, '0')}`;
    if (i === 4) spool.append(Buffer.from('not avro'));
    else if (i === 7) spool.append(invalid);
    else spool.append(encodeSingleObject(schemas, record({ id })));
  }
  await spool.close();
  const store = new LocalDirStore(join(dir, 'archive'));
  const stats = await spoolArchiver({ spoolDir, store }).drain();
  assert.deepEqual(stats, {
    records: 10,
    events: 8,
    objects: 1,
    duplicatesDropped: 0,
    deadLetters: 2,
  });
  assert.deepEqual(await collect(store.list('events-dlq/')), [
    'events-dlq/audit.events/0/00000000000000000004.bin',
    'events-dlq/audit.events/0/00000000000000000004.bin.reason',
    'events-dlq/audit.events/0/00000000000000000007.bin',
    'events-dlq/audit.events/0/00000000000000000007.bin.reason',
  ]);
  const reason = (offset: string) =>
    store.get(`events-dlq/audit.events/0/${offset}.bin.reason`).then((b) => b.toString());
  assert.match(await reason('00000000000000000004'), /^DECODE_FAILED: /);
  assert.match(await reason('00000000000000000007'), /error_message/);
  assert.equal(
    (await store.get('events-dlq/audit.events/0/00000000000000000004.bin')).toString(),
    'not avro',
  );
  const [key] = await collect(store.list('events/dt='));
  const meta = decodeContainerHeader(await store.get(key as string)).header.metadata;
  assert.deepEqual(
    [meta[META.firstOffset], meta[META.lastOffset], meta[META.count]],
    ['0', '9', '8'],
  );
  // a second run sends none again
  await store.delete('events-dlq/audit.events/0/00000000000000000004.bin');
  await spoolArchiver({ spoolDir, store }).drain();
  assert.equal((await collect(store.list('events-dlq/'))).length, 3);
});

test('archiver options are checked at construction, naming the bad one', async (t) => {
  const dir = await tempDir(t);
  const store = new LocalDirStore(dir);
  const cases = [
    [{ prefix: '' }, 'prefix'],
    [{ codec: 'zstd' }, 'codec'],
    [{ dedupWindow: 0 }, 'dedupWindow'],
    [{ digestIntervalMs: -1 }, 'digestIntervalMs'],
    [{ batch: { maxEvents: 0 } }, 'batch.maxEvents'],
    [{ pollMs: 1.5 }, 'pollMs'],
  ] as const;
  for (const [options, field] of cases)
    assert.throws(
      () => spoolArchiver({ spoolDir: dir, store, ...(options as object) }),
      { code: AuditErrorCode.InvalidOption, field },
      field,
    );
});

test('group consumer options are checked at construction, naming the bad one', () => {
  const kafka = {
    consumer: () => assert.fail('no consumer is made from bad options'),
  } as unknown as Kafka;
  const cases = [
    [{ groupId: '' }, 'groupId'],
    [{ topic: '' }, 'topic'],
    [{ sessionTimeoutMs: 0 }, 'sessionTimeoutMs'],
    [{ maxBytesPerPartition: 2.5 }, 'maxBytesPerPartition'],
    [{ partitionsConsumedConcurrently: -1 }, 'partitionsConsumedConcurrently'],
  ] as const;
  for (const [options, field] of cases)
    assert.throws(
      () => new GroupConsumer({ kafka, groupId: 'g', ...options }),
      { code: AuditErrorCode.InvalidOption, field },
      field,
    );
});

test('pausing a group consumer while kafkajs has no running consumer (between a crash and its restart) is no error', () => {
  // a kafkajs client that never connects: its consumer is not running, as after a crash
  const kafka = new kafkajs.Kafka({
    clientId: 'pause-test',
    brokers: ['127.0.0.1:9'],
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const consumer = new GroupConsumer({ kafka, groupId: 'g', topic: 't' });
  assert.doesNotThrow(() => consumer.pause());
});

test('catching up leaves no abort listeners behind on the caller signal, however many batches it waits for', async (t) => {
  const dir = await tempDir(t);
  const spoolDir = await spoolOfEvents(dir, 600);
  const controller = new AbortController();
  const signal = controller.signal;
  let listeners = 0;
  let most = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = (...args: Parameters<typeof add>) => {
    most = Math.max(most, ++listeners);
    add(...args);
  };
  signal.removeEventListener = (...args: Parameters<typeof remove>) => {
    listeners--;
    remove(...args);
  };
  // 5 records a batch: 120 batches, each of which wakes the wait
  const archiver = spoolArchiver({
    spoolDir,
    store: new LocalDirStore(join(dir, 'archive')),
    readRecords: 5,
  });
  const ends = await archiver.backlog();
  await archiver.start();
  assert.equal(await archiver.catchUp(ends, signal), true);
  const stats = await archiver.stop();
  assert.equal(stats.records, 600);
  assert.ok(archiver.source.stats.batches >= 100, `${archiver.source.stats.batches} batches`);
  assert.equal(getEventListeners(signal, 'abort').length, 0);
  assert.equal(listeners, 0);
  assert.ok(most <= 1, `${most} abort listeners at once`);
});

test('catching up writes the open batches before it resolves: a rebalance between it and the stop loses nothing of the run', async (t) => {
  const dir = await tempDir(t);
  // 250 records: two full objects of 100 and an open batch of 50
  const spoolDir = await spoolOfEvents(dir, 250);
  const store = new LocalDirStore(join(dir, 'archive'));
  const archiver = spoolArchiver({ spoolDir, store, batch: { maxEvents: 100 } });
  const ends = await archiver.backlog();
  await archiver.start();
  assert.equal(await archiver.catchUp(ends), true);
  // the group takes the partition away and gives it back (a member restarted, the coordinator moved)
  await archiver.assigned([0]);
  const stats = await archiver.stop();
  assert.deepEqual([stats.records, stats.events, stats.objects], [250, 250, 3]);
  const objects = await collect(store.list('events/dt='));
  assert.equal(objects.length, 3);
  const counts = await Promise.all(
    objects.map(async (key) =>
      Number(decodeContainerHeader(await store.get(key)).header.metadata[META.count]),
    ),
  );
  assert.equal(
    counts.reduce((a, b) => a + b, 0),
    250,
  );
});

test('a stopping member closes its digests before it leaves the group: the next owner continues the chain instead of forking it', async (t) => {
  const dir = await tempDir(t);
  const spoolDir = await spoolOfEvents(dir, 250);
  const store = new LocalDirStore(join(dir, 'archive'));
  const keys = generateKeyPairSync('ed25519');
  const options = { spoolDir, store, batch: { maxEvents: 100 }, signingKey: keys.privateKey };
  const first = spoolArchiver(options);
  const leave = first.source.stop.bind(first.source);
  // the moment the first member has left, the group gives the partition to the next one,
  // which archives what is left and stops, closing its digest interval
  let next: Awaited<ReturnType<Archiver['stop']>> | undefined;
  first.source.stop = async () => {
    await leave();
    next = await spoolArchiver(options).drain();
  };
  const stats = await first.drain();
  assert.equal(stats.events, 250);
  assert.equal(next?.events, 0);
  const report = await verifyArchive(store, { prefix: 'events', publicKey: keys.publicKey });
  assert.deepEqual(
    report.problems.map((p) => `${p.kind} ${p.detail}`),
    [],
  );
  assert.equal(report.events, 250);
});
