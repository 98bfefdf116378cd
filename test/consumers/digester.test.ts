import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import {
  decodeDigest,
  digestSignatureValid,
  parseDigestKey,
} from '../../consumers/archiver/digest.js';
import { PartitionDigester } from '../../consumers/archiver/digester.js';
import { LocalDirStore } from '../../consumers/object-store/local-dir-store.js';
import { collect, tempDir } from '../helpers.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 27, 10, 20);

test('one digest per interval, empty intervals included, each linked to the one before; close ends the interval early', async (t) => {
  const store = new LocalDirStore(await tempDir(t));
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const clock = { now: T0 };
  const make = () =>
    new PartitionDigester({
      store,
      prefix: 'events',
      topic: 'audit.events',
      partition: 0,
      signingKey: privateKey,
      now: () => clock.now,
    });

  const digester = make();
  await digester.resume([]);
  digester.record({ key: 'events/a.avro', firstOffset: 0, lastOffset: 9 }, 'a'.repeat(64), 10);
  clock.now = T0 + 3 * HOUR + 5 * 60_000; // 13:25: the 10:00, 11:00 and 12:00 intervals have ended
  await digester.emitDue();
  digester.record({ key: 'events/b.avro', firstOffset: 10, lastOffset: 19 }, 'b'.repeat(64), 10);
  clock.now += 60_000;
  await digester.close(); // a clean stop at 13:26

  const keys = await collect(store.list('events/_digests/'));
  const digests = await Promise.all(
    keys.map(async (key) => decodeDigest(key, await store.get(key))),
  );
  assert.deepEqual(
    digests.map((d) => [
      d.interval_start.slice(11, 16),
      d.interval_end.slice(11, 16),
      d.objects.length,
      d.covered_through_offset,
    ]),
    [
      ['10:00', '11:00', 1, 9],
      ['11:00', '12:00', 0, 9],
      ['12:00', '13:00', 0, 9],
      ['13:00', '13:26', 1, 19],
    ],
  );
  digests.forEach((digest, i) => {
    assert.ok(digestSignatureValid(digest, publicKey));
    assert.equal(digest.previous_digest_key, i === 0 ? null : keys[i - 1]);
    assert.equal(digest.previous_digest_signature, i === 0 ? null : digests[i - 1]?.signature);
  });

  // the next run starts where the clean stop ended
  clock.now += 10 * 60_000;
  const next = make();
  await next.resume([]);
  clock.now = T0 + 4 * HOUR;
  await next.emitDue();
  const last = (await collect(store.list('events/_digests/'))).at(-1) as string;
  assert.equal(parseDigestKey(last)?.start, Date.parse('2026-11-27T13:26:00.000Z'));
  assert.equal(decodeDigest(last, await store.get(last)).previous_digest_key, keys.at(-1));
});
