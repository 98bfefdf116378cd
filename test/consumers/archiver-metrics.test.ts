import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { Spool } from '../../common/spool/spool.js';
import { classifyArchiveKey } from '../../consumers/archiver/archive-key.js';
import { ArchiverMetrics } from '../../consumers/archiver/archiver-metrics.js';
import { spoolArchiver } from '../../consumers/archiver/spool-archiver.js';
import { LocalDirStore } from '../../consumers/object-store/local-dir-store.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { encodeSingleObject } from '../../schemas/single-object.js';
import { collect, record, tempDir } from '../helpers.js';
import { metricValue, parseMetrics } from '../metrics-text.js';

const id = (i: number): string => `0190b6a2-7c3e-7d4a-9b1e-${String(i).padStart(12, '0')}`;

test('the archiver metrics read the events, objects, bytes, duplicates and dead letters it wrote', async (t) => {
  const dir = await tempDir(t);
  const spoolDir = join(dir, 'spool');
  const spool = new Spool({ dir: spoolDir });
  const schemas = auditEventSchemas();
  // 250 events, one of them twice, one record that does not decode
  for (let i = 0; i < 250; i++) spool.append(encodeSingleObject(schemas, record({ id: id(i) })));
  spool.append(encodeSingleObject(schemas, record({ id: id(3) })));
  spool.append(Buffer.from('not avro'));
  await spool.close();
  const store = new LocalDirStore(join(dir, 'archive'));
  const registry = new Registry();
  const metrics = new ArchiverMetrics({ registry });
  const archiver = spoolArchiver({ spoolDir, store, batch: { maxEvents: 100 }, metrics });
  const stats = await archiver.drain();
  assert.equal(stats.events, 250);

  const samples = parseMetrics(await registry.metrics());
  const value = (name: string) => metricValue(samples, `audit_trail_archiver_${name}`);
  // what the archiver wrote: archive objects, and a claim for each
  const keys = await collect(store.list('events/'));
  const sizes = await Promise.all(keys.map(async (key) => (await store.get(key)).length));
  const objects = keys.filter((key) => classifyArchiveKey('events', key).kind === 'object');
  assert.equal(value('records_in_total'), 252);
  assert.equal(value('events_archived_total'), 250);
  assert.equal(value('objects_written_total'), objects.length);
  assert.equal(objects.length, 3);
  assert.equal(value('duplicates_dropped_total'), 1);
  assert.equal(value('dead_letters_total'), 1);
  assert.equal(
    value('bytes_written_total'),
    sizes.reduce((a, b) => a + b, 0),
  );
  assert.equal(value('upload_duration_seconds_count'), keys.length);
  assert.equal(value('batch_events_count'), objects.length);
  assert.equal(value('batch_events_sum'), 250);
  assert.equal(value('store_retries_total'), 0);
  // stopped: it handles no partition any more, so it reports no lag
  assert.equal(value('consumer_lag_events'), undefined);
});

test('the consumer lag counts the records on the source the archiver has not archived yet', async (t) => {
  const dir = await tempDir(t);
  const spoolDir = join(dir, 'spool');
  const spool = new Spool({ dir: spoolDir });
  const schemas = auditEventSchemas();
  for (let i = 0; i < 30; i++) spool.append(encodeSingleObject(schemas, record({ id: id(i) })));
  await spool.flush();
  const store = new LocalDirStore(join(dir, 'archive'));
  const registry = new Registry();
  const metrics = new ArchiverMetrics({ registry });
  const first = spoolArchiver({ spoolDir, store, batch: { maxEvents: 10 }, metrics });
  await first.drain();
  // a stopped archiver handles no partition: it reports no lag
  // 20 more after that run; a new archiver that has resumed but not taken them lags by 20
  for (let i = 30; i < 50; i++) spool.append(encodeSingleObject(schemas, record({ id: id(i) })));
  await spool.close();
  const second = spoolArchiver({ spoolDir, store, metrics });
  assert.equal(await second.startAt(0), 30);
  const samples = parseMetrics(await registry.metrics());
  assert.equal(metricValue(samples, 'audit_trail_archiver_consumer_lag_events'), 20);
  // two archivers on one registry: their counts add up
  assert.equal(metricValue(samples, 'audit_trail_archiver_events_archived_total'), 30);
});

test('an archiver without metrics, and one whose metrics nobody reads, archive the same', async (t) => {
  const dir = await tempDir(t);
  const schemas = auditEventSchemas();
  const run = async (name: string, metrics?: ArchiverMetrics) => {
    const spoolDir = join(dir, `spool-${name}`);
    const spool = new Spool({ dir: spoolDir });
    for (let i = 0; i < 5; i++) spool.append(encodeSingleObject(schemas, record({ id: id(i) })));
    await spool.close();
    const store = new LocalDirStore(join(dir, name));
    return spoolArchiver({ spoolDir, store, metrics }).drain();
  };
  const plain = await run('plain');
  assert.equal(plain.events, 5);
  assert.deepEqual(await run('metered', new ArchiverMetrics()), plain);
});
