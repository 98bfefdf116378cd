/**
 * The behaviour every ObjectStore must have. Each implementation's test file
 * calls `objectStoreConformance` with a factory of fresh, empty stores.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { AuditErrorCode } from '../../common/errors.js';
import type { ObjectStore } from '../../consumers/object-store/object-store.js';
import { collect } from '../helpers.js';

export function objectStoreConformance(
  name: string,
  makeStore: (t: TestContext) => Promise<ObjectStore>,
): void {
  test(`${name}: put then get returns the same bytes`, async (t) => {
    const store = await makeStore(t);
    const body = Buffer.from([0, 1, 2, 255, 254]);
    await store.put('a/b/c.avro', body);
    assert.deepEqual(await store.get('a/b/c.avro'), body);
  });

  test(`${name}: put replaces an object`, async (t) => {
    const store = await makeStore(t);
    await store.put('k', Buffer.from('one'));
    await store.put('k', Buffer.from('two'));
    assert.equal((await store.get('k')).toString(), 'two');
  });

  test(`${name}: putIfAbsent creates once and never replaces`, async (t) => {
    const store = await makeStore(t);
    assert.equal(await store.putIfAbsent('c/claim', Buffer.from('first')), true);
    assert.equal(await store.putIfAbsent('c/claim', Buffer.from('second')), false);
    assert.equal((await store.get('c/claim')).toString(), 'first');
    await store.put('c/plain', Buffer.from('x'));
    assert.equal(await store.putIfAbsent('c/plain', Buffer.from('y')), false);
    assert.equal((await store.get('c/plain')).toString(), 'x');
    assert.deepEqual(await collect(store.list('c/')), ['c/claim', 'c/plain']);
  });

  test(`${name}: of concurrent putIfAbsent calls on one key exactly one wins`, async (t) => {
    const store = await makeStore(t);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.putIfAbsent('race/key', Buffer.from(`w${i}`))),
    );
    assert.equal(results.filter(Boolean).length, 1);
    const winner = results.indexOf(true);
    assert.equal((await store.get('race/key')).toString(), `w${winner}`);
    assert.deepEqual(await collect(store.list('race/')), ['race/key']);
  });

  test(`${name}: an empty object is stored`, async (t) => {
    const store = await makeStore(t);
    await store.put('empty', Buffer.alloc(0));
    assert.equal((await store.get('empty')).length, 0);
  });

  test(`${name}: getHead returns the first bytes, all of a shorter object, NOT_FOUND for none`, async (t) => {
    const store = await makeStore(t);
    const body = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
    await store.put('h/object', body);
    assert.deepEqual(await store.getHead('h/object', 100), body.subarray(0, 100));
    assert.deepEqual(await store.getHead('h/object', 1), body.subarray(0, 1));
    assert.deepEqual(await store.getHead('h/object', 5000), body);
    assert.deepEqual(await store.getHead('h/object', 65536), body);
    await store.put('h/empty', Buffer.alloc(0));
    assert.equal((await store.getHead('h/empty', 10)).length, 0);
    await assert.rejects(store.getHead('h/none', 10), { code: AuditErrorCode.NotFound });
  });

  test(`${name}: get of a missing key is NOT_FOUND`, async (t) => {
    const store = await makeStore(t);
    await assert.rejects(store.get('nothing/here'), { code: AuditErrorCode.NotFound });
  });

  test(`${name}: list returns the keys under a prefix in byte order`, async (t) => {
    const store = await makeStore(t);
    const keys = [
      'p/dt=2026-01-02/x',
      'p/dt=2026-01-01/b',
      'p/dt=2026-01-01/a',
      'p-other/z',
      'q/1',
      'p/dt=2026-01-01-b/c',
    ];
    for (const key of keys) await store.put(key, Buffer.from(key));
    assert.deepEqual(await collect(store.list('p/dt=')), [
      'p/dt=2026-01-01-b/c',
      'p/dt=2026-01-01/a',
      'p/dt=2026-01-01/b',
      'p/dt=2026-01-02/x',
    ]);
    assert.deepEqual(await collect(store.list('p')), [
      'p-other/z',
      'p/dt=2026-01-01-b/c',
      'p/dt=2026-01-01/a',
      'p/dt=2026-01-01/b',
      'p/dt=2026-01-02/x',
    ]);
    assert.deepEqual(await collect(store.list('none/')), []);
  });

  test(`${name}: list pages through many keys`, async (t) => {
    const store = await makeStore(t);
    const keys = Array.from({ length: 1203 }, (_, i) => `many/${String(i).padStart(5, '0')}`);
    for (const key of keys) await store.put(key, Buffer.from('x'));
    assert.deepEqual(await collect(store.list('many/')), keys);
  });

  test(`${name}: delete removes an object and is idempotent`, async (t) => {
    const store = await makeStore(t);
    await store.put('d/1', Buffer.from('x'));
    await store.delete('d/1');
    await store.delete('d/1');
    await assert.rejects(store.get('d/1'), { code: AuditErrorCode.NotFound });
    assert.deepEqual(await collect(store.list('d/')), []);
  });

  test(`${name}: keys that could escape the store are refused`, async (t) => {
    const store = await makeStore(t);
    for (const key of ['../x', 'a/../../x', '/abs', '', 'a//b']) {
      await assert.rejects(
        store.put(key, Buffer.from('x')),
        { code: AuditErrorCode.InvalidOption },
        key,
      );
      // a read with such a key is refused the same way, not taken for a failed (retriable) read
      await assert.rejects(
        store.get(key),
        { code: AuditErrorCode.InvalidOption, retriable: false },
        key,
      );
    }
  });
}
