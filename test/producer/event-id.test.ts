import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newEventId } from '../../producer/event-id.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const millisOf = (id: string): number => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

function assertIncreasing(ids: readonly string[]): void {
  for (let i = 1; i < ids.length; i++)
    assert.ok((ids[i - 1] as string) < (ids[i] as string), `id ${i} is not after id ${i - 1}`);
}

test('ids across many refills of the random pool are UUID v7, unique and increasing', () => {
  const ids = Array.from({ length: 20_000 }, () => newEventId());
  for (const id of ids) assert.match(id, UUID_V7);
  assert.equal(new Set(ids).size, ids.length);
  assertIncreasing(ids);
});

test('ids made within one millisecond count up and hold that millisecond', () => {
  const now = Date.now() + 60_000;
  const ids = Array.from({ length: 5_000 }, () => newEventId(now));
  assertIncreasing(ids);
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(ids.every((id) => millisOf(id) === now));
});

test('ids stay increasing when the clock steps back', () => {
  const ahead = Date.now() + 120_000;
  const before = newEventId(ahead);
  const after = [newEventId(ahead - 5_000), newEventId(ahead - 10_000), newEventId()];
  assertIncreasing([before, ...after]);
});

test('a new millisecond starts the counter at random: ids of different runs differ in their random bits', () => {
  const at = Date.now() + 180_000;
  const a = newEventId(at);
  const b = newEventId(at + 1);
  assert.equal(millisOf(a), at);
  assert.equal(millisOf(b), at + 1);
  assert.notEqual(a.slice(14), b.slice(14));
});
