import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuditErrorCode } from '../../common/errors.js';
import { RecentIds } from '../../consumers/archiver/recent-ids.js';

/** A lower-case UUID from a number (two numbers give ids differing anywhere in the 16 bytes). */
function uuid(n: number, salt = 0): string {
  const hex = (n * 2654435761 + salt).toString(16).padStart(12, '0').slice(-12);
  const high = ((n ^ salt) >>> 0).toString(16).padStart(8, '0');
  return `${high}-7c3e-7d4a-9b1e-${hex}`;
}

/** What RecentIds must behave like: a set of the last `capacity` ids added. */
class Model {
  private readonly ids: string[] = [];
  constructor(private readonly capacity: number) {}
  add(id: string): boolean {
    if (this.ids.includes(id)) return false;
    this.ids.push(id);
    if (this.ids.length > this.capacity) this.ids.shift();
    return true;
  }
  has(id: string): boolean {
    return this.ids.includes(id);
  }
}

/** A small deterministic generator, so that a failure can be replayed. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

for (const capacity of [1, 3, 17, 1024, 2500]) {
  test(`RecentIds behaves as the set of the last ${capacity} ids (duplicates, eviction, growth)`, () => {
    const random = lcg(capacity);
    const ids = new RecentIds(capacity);
    const model = new Model(capacity);
    // a pool about twice the capacity: ids come back both inside and outside the window
    const pool = Math.max(4, 2 * capacity);
    for (let step = 0; step < Math.min(20 * capacity + 200, 12_000); step++) {
      const id = uuid(Math.floor(random() * pool));
      assert.equal(ids.add(id), model.add(id), `step ${step}: add(${id})`);
      const probe = uuid(Math.floor(random() * pool));
      assert.equal(ids.has(probe), model.has(probe), `step ${step}: has(${probe})`);
    }
    assert.equal(ids.length, Math.min(capacity, ids.length));
  });
}

test('RecentIds: reset forgets everything, then remembers the given ids, oldest first', () => {
  const ids = new RecentIds(3);
  for (let n = 0; n < 10; n++) ids.add(uuid(n));
  ids.reset([uuid(100), uuid(101), uuid(102), uuid(103)]);
  assert.equal(ids.has(uuid(9)), false);
  assert.equal(ids.has(uuid(100)), false, 'beyond the capacity: the oldest is forgotten');
  assert.equal(ids.add(uuid(101)), false);
  assert.equal(ids.add(uuid(103)), false);
  assert.equal(ids.length, 3);
});

test('RecentIds: ids that differ in any byte are different ids', () => {
  const ids = new RecentIds(100);
  const base = '0190b6a2-7c3e-7d4a-9b1e-2f3a4b5c6d7e';
  assert.equal(ids.add(base), true);
  for (let i = 0; i < base.length; i++) {
    if (base[i] === '-') continue;
    const other = base.slice(0, i) + (base[i] === 'f' ? 'e' : 'f') + base.slice(i + 1);
    assert.equal(ids.add(other), true, `differs at ${i}`);
  }
  assert.equal(ids.add(base), false);
});

test('RecentIds refuses what is not a lower-case UUID, naming it', () => {
  const ids = new RecentIds(10);
  for (const bad of [
    '',
    'not-a-uuid',
    '0190B6A2-7C3E-7D4A-9B1E-2F3A4B5C6D7E',
    '0190b6a2x7c3e-7d4a-9b1e-2f3a4b5c6d7e',
    '0190b6a2-7c3e-7d4a-9b1e-2f3a4b5c6d7g',
  ])
    assert.throws(() => ids.add(bad), { code: AuditErrorCode.InvalidField, message: /id/ });
  assert.equal(ids.length, 0);
});
