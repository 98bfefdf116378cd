import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuditErrorCode } from '../../common/errors.js';
import { batchPolicy } from '../../consumers/archiver/batch-policy.js';
import { archivedObjects } from '../../consumers/archiver/archive-resume.js';
import {
  PartitionArchiver,
  type WrittenObject,
} from '../../consumers/archiver/partition-archiver.js';
import type { ObjectStore } from '../../consumers/object-store/object-store.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { encodeSingleObject } from '../../schemas/single-object.js';
import { logRecord, record } from '../helpers.js';
import { testBucket } from './stack.js';

const schemas = auditEventSchemas();

function writer(store: ObjectStore): PartitionArchiver {
  return new PartitionArchiver({
    store,
    prefix: 'events',
    topic: 'audit.events',
    partition: 0,
    schemas,
    policy: batchPolicy({ maxEvents: 100_000 }),
    codec: 'deflate',
  });
}

test('writers racing on one batch start in S3Proxy: the store lets exactly one claim through', async (t) => {
  const { store } = await testBucket(t);
  const writers = [writer(store), writer(store), writer(store)];
  for (const w of writers) await w.resume();
  // each holds a different range from the same start, as a stale member and the new owner do
  for (const [i, w] of writers.entries())
    for (let offset = 0; offset <= 20 + i * 10; offset++) {
      const id = `0190b6a2-7c3e-7d4a-9b1e-${String(offset).padStart(12, '0')}`;
      await w.add(
        logRecord({
          offset,
          timestamp: Date.UTC(2026, 10, 28, 22) + offset,
          value: encodeSingleObject(schemas, record({ id })),
        }),
      );
    }
  const results = await Promise.allSettled(writers.map((w) => w.flush()));
  const won = results.filter(
    (r): r is PromiseFulfilledResult<WrittenObject | undefined> => r.status === 'fulfilled',
  );
  assert.equal(won.length, 1, 'one winner');
  for (const r of results)
    if (r.status === 'rejected')
      assert.equal((r.reason as { code?: string }).code, AuditErrorCode.Fenced);
  const objects = await archivedObjects(store, 'events', 'audit.events', 0);
  assert.deepEqual(
    objects.map((o) => [o.firstOffset, o.lastOffset]),
    [[0, won[0]?.value?.lastOffset]],
    "one object, the winner's",
  );
});
