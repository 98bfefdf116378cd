import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { PackedBodies } from '../../consumers/archiver/packed-bodies.js';

function bodies(count: number): Buffer[] {
  // sizes 0..299 bytes, so that the buffer grows several times from a small start
  return Array.from({ length: count }, (_, i) => Buffer.alloc(i % 300, i % 251));
}

test('PackedBodies keeps each body, in order, as copies', () => {
  const source = bodies(700);
  const packed = new PackedBodies(16);
  for (const body of source) packed.push(body);
  for (const body of source) body.fill(0xff); // the sources may be reused: the copies must not change
  const expected = bodies(700);
  assert.equal(packed.count, 700);
  assert.equal(
    packed.bodyBytes,
    expected.reduce((sum, body) => sum + body.length, 0),
  );
  for (let i = 0; i < expected.length; i++) assert.deepEqual(packed.body(i), expected[i]);
  assert.deepEqual(packed.concat(0, 700), Buffer.concat(expected));
  assert.deepEqual(packed.concat(250, 251), expected[250]);
  assert.deepEqual(packed.concat(5, 5), Buffer.alloc(0));
});

test('PackedBodies.digest is the SHA-256 of each body after its length (u32 BE)', () => {
  const source = bodies(300);
  const hash = createHash('sha256');
  for (const body of source) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(body.length);
    hash.update(length).update(body);
  }
  assert.equal(PackedBodies.of(source).digest(), hash.digest('hex'));
  assert.equal(
    new PackedBodies().digest(),
    createHash('sha256').digest('hex'),
    'no events: the digest of nothing',
  );
});
