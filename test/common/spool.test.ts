import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import { AuditErrorCode } from '../../common/errors.js';
import { encodeFrame, writeFrame } from '../../common/spool/frame.js';
import { Spool } from '../../common/spool/spool.js';
import { SpoolReader } from '../../common/spool/spool-reader.js';
import { readSpool, tempDir } from '../helpers.js';

const payload = (i: number): Buffer => Buffer.from(`event-${i}-${'x'.repeat(i % 50)}`);

test('appended records are read back in order with their offsets, across segments', async (t) => {
  const dir = await tempDir(t);
  const spool = new Spool({ dir, segmentBytes: 4096 });
  for (let i = 0; i < 1000; i++) assert.equal(spool.append(payload(i), 1000 + i), i);
  await spool.close();
  assert.ok(readdirSync(dir).filter((f) => f.endsWith('.seg')).length > 5, 'several segments');
  const records = await readSpool(dir);
  assert.deepEqual(
    records.map((r) => r.offset),
    Array.from({ length: 1000 }, (_, i) => i),
  );
  assert.deepEqual(
    records.map((r) => r.value),
    Array.from({ length: 1000 }, (_, i) => payload(i).toString()),
  );
  const fromMiddle = await new SpoolReader(dir).read(777, 2);
  assert.deepEqual(
    fromMiddle.map((r) => [r.offset, r.appendTime]),
    [
      [777, 1777],
      [778, 1778],
    ],
  );
});

test('offsets continue after reopening', async (t) => {
  const dir = await tempDir(t);
  const first = new Spool({ dir });
  first.append(payload(0));
  first.append(payload(1));
  await first.close();
  const second = new Spool({ dir });
  assert.equal(second.nextOffset, 2);
  assert.equal(second.append(payload(2)), 2);
  await second.close();
  assert.equal((await readSpool(dir)).length, 3);
});

const tornTails: [string, (segment: string) => number][] = [
  [
    'a partial header',
    (segment) => {
      appendFileSync(segment, encodeFrame(payload(99), 1).subarray(0, 7));
      return 7;
    },
  ],
  [
    'a partial payload',
    (segment) => {
      const frame = encodeFrame(payload(99), 1);
      appendFileSync(segment, frame.subarray(0, frame.length - 3));
      return frame.length - 3;
    },
  ],
  [
    'a whole frame with a wrong checksum',
    (segment) => {
      const frame = encodeFrame(payload(99), 1);
      frame.writeUInt8(frame.readUInt8(frame.length - 1) ^ 0x55, frame.length - 1);
      appendFileSync(segment, frame);
      return frame.length;
    },
  ],
  [
    'zeros from a file extended before its data was written',
    (segment) => {
      appendFileSync(segment, Buffer.alloc(100));
      return 100;
    },
  ],
];

for (const [name, tear] of tornTails) {
  test(`a torn last record (${name}) is detected and cut on reopen`, async (t) => {
    const dir = await tempDir(t);
    const spool = new Spool({ dir });
    for (let i = 0; i < 10; i++) spool.append(payload(i));
    await spool.close();
    const segment = join(dir, '00000000000000000000.seg');
    const goodSize = statSync(segment).size;
    const torn = tear(segment);

    // a reader never returns the torn record
    assert.equal((await readSpool(dir)).length, 10);

    const reopened = new Spool({ dir });
    assert.deepEqual(reopened.recovery, { truncatedBytes: torn, segment });
    assert.equal(statSync(segment).size, goodSize);
    assert.equal(reopened.nextOffset, 10);
    reopened.append(payload(10));
    await reopened.close();
    assert.deepEqual(
      (await readSpool(dir)).map((r) => r.value),
      Array.from({ length: 11 }, (_, i) => payload(i).toString()),
    );
  });
}

test('damage before the last record is SPOOL_CORRUPT, not silently cut', async (t) => {
  const dir = await tempDir(t);
  const spool = new Spool({ dir });
  for (let i = 0; i < 10; i++) spool.append(payload(i));
  await spool.close();
  const segment = join(dir, '00000000000000000000.seg');
  const bytes = readFileSync(segment);
  bytes.writeUInt8(bytes.readUInt8(40) ^ 0xff, 40); // inside the second record
  writeFileSync(segment, bytes);
  assert.throws(() => new Spool({ dir }), { code: AuditErrorCode.SpoolCorrupt });
  await assert.rejects(readSpool(dir), { code: AuditErrorCode.SpoolCorrupt });
  assert.equal(statSync(segment).size, bytes.length, 'nothing was cut');
});

test('a second writer is refused while the first holds the spool', async (t) => {
  const dir = await tempDir(t);
  const spool = new Spool({ dir });
  assert.throws(() => new Spool({ dir }), { code: AuditErrorCode.SpoolLocked });
  await spool.close();
  await new Spool({ dir }).close();
});

test('a lock left by a dead process is taken over', async (t) => {
  const dir = await tempDir(t);
  await new Spool({ dir }).close();
  writeFileSync(join(dir, 'LOCK'), '999999999');
  const taken = new Spool({ dir });
  assert.equal(readFileSync(join(dir, 'LOCK'), 'utf8'), String(process.pid));
  taken.append(payload(0));
  await taken.close();
  assert.deepEqual(await readSpool(dir), [{ offset: 0, value: payload(0).toString() }]);
});

test('a full spool refuses with a retriable SPOOL_FULL and keeps what it had', async (t) => {
  const dir = await tempDir(t);
  const spool = new Spool({ dir, maxBytes: 1000 });
  let accepted = 0;
  assert.throws(
    () => {
      for (;;) {
        spool.append(payload(accepted));
        accepted++;
      }
    },
    { code: AuditErrorCode.SpoolFull, retriable: true },
  );
  await spool.close();
  assert.equal((await readSpool(dir)).length, accepted);
});

test('release deletes only fully archived segments and never the newest', async (t) => {
  const dir = await tempDir(t);
  const spool = new Spool({ dir, segmentBytes: 1024 });
  for (let i = 0; i < 200; i++) spool.append(payload(i));
  await spool.close();
  const reader = new SpoolReader(dir);
  const segments = (): string[] => readdirSync(dir).filter((f) => f.endsWith('.seg'));
  const before = segments().length;
  assert.equal(await reader.release(0), 0);
  await reader.release(100);
  assert.ok(segments().length < before);
  const remaining = await readSpool(dir, Number(segments()[0]?.slice(0, 20)));
  assert.ok(
    remaining.some((r) => r.offset === 100),
    'offset 100 is still there',
  );
  await reader.release(10_000);
  assert.equal(segments().length, 1);
  await assert.rejects(reader.read(0, 10), { code: AuditErrorCode.NotFound });
});

test('frames larger than the write buffer and its headroom are written whole, between small ones', async (t) => {
  const dir = await tempDir(t);
  const spool = new Spool({ dir, bufferBytes: 1024, lingerMs: 10_000 });
  const sizes = [10, 200_000, 3, 70_000, 900, 1, 130_000, 5];
  const payloads = sizes.map((size, i) => Buffer.alloc(size, 97 + i));
  for (const [i, p] of payloads.entries()) spool.append(p, 5000 + i);
  await spool.close();
  const records = await new SpoolReader(dir).read(0, 100);
  assert.deepEqual(
    records.map((r) => [r.offset, r.appendTime, r.value.length]),
    sizes.map((size, i) => [i, 5000 + i, size]),
  );
  for (const [i, r] of records.entries()) assert.ok(r.value.equals(payloads[i] as Buffer));
});

test('a frame written in place has the bytes of the BigInt encoding for any append time', () => {
  const payload = Buffer.from('payload');
  for (const time of [
    0,
    1,
    0xffff_ffff,
    0x1_0000_0000,
    Date.now(),
    253402300799999,
    -1,
    -0x1_0000_0001,
  ]) {
    const frame = encodeFrame(payload, time);
    const expected = Buffer.alloc(frame.length);
    expected.writeUInt32BE(payload.length, 0);
    expected.writeBigInt64BE(BigInt(time), 8);
    payload.copy(expected, 16);
    expected.writeUInt32BE(crc32(expected.subarray(8)), 4);
    assert.deepEqual(frame, expected, `time ${time}`);
    const target = Buffer.alloc(frame.length + 5, 0xee);
    assert.equal(writeFrame(target, 3, payload, time), 3 + frame.length);
    assert.deepEqual(target.subarray(3, 3 + frame.length), frame);
    assert.equal(target[2], 0xee);
    assert.equal(target[3 + frame.length], 0xee);
  }
});
