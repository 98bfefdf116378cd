import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { AuditErrorCode } from '../../common/errors.js';
import { S3Store } from '../../consumers/object-store/s3-store.js';
import { objectStoreConformance } from '../consumers/object-store.conformance.js';
import { s3Settings, testBucket } from './stack.js';

/** A bucket of the test's own, emptied and removed after it. */
async function bucketStore(
  t: TestContext,
  extra: Partial<ConstructorParameters<typeof S3Store>[0]> = {},
): Promise<S3Store> {
  return (await testBucket(t, extra)).store;
}

objectStoreConformance('S3Store on S3Proxy', (t) => bucketStore(t));

test('S3Store puts a large object in parts and reads it back whole', async (t) => {
  const store = await bucketStore(t, { multipartThresholdBytes: 5 * 1024 * 1024 });
  const body = randomBytes(12 * 1024 * 1024);
  await store.put('big/object.avro', body);
  assert.ok((await store.get('big/object.avro')).equals(body));
});

test('S3Store with wrong credentials fails with a clear, non-retriable error', async (t) => {
  await bucketStore(t);
  const store = new S3Store({
    ...s3Settings(),
    bucket: 'audit-archive',
    credentials: { accessKeyId: 'nobody', secretAccessKey: 'wrong' },
  });
  await assert.rejects(
    store.put('x', Buffer.from('x')),
    (error: { code?: string; retriable?: boolean; message?: string }) => {
      assert.equal(error.code, AuditErrorCode.AccessDenied);
      assert.equal(error.retriable, false);
      assert.doesNotMatch(error.message ?? '', /wrong/);
      return true;
    },
  );
  store.close();
});

test('S3Store reports a bucket that does not exist as non-retriable NO_SUCH_BUCKET', async () => {
  const store = new S3Store({ ...s3Settings(), bucket: 'no-such-bucket-at-all' });
  for (const operation of [
    () => store.put('x', Buffer.from('x')),
    () => store.putIfAbsent('x', Buffer.from('x')),
    async () => {
      for await (const key of store.list('events/')) void key;
    },
  ]) {
    await assert.rejects(operation(), { code: AuditErrorCode.NoSuchBucket, retriable: false });
  }
  store.close();
});

test('S3Store reports an unreachable server as retriable UNAVAILABLE', async () => {
  const store = new S3Store({
    ...s3Settings(),
    endpoint: 'http://127.0.0.1:9',
    bucket: 'audit-archive',
    attempts: 2,
  });
  await assert.rejects(store.get('x'), { code: AuditErrorCode.Unavailable, retriable: true });
  store.close();
});
