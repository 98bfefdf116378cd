/**
 * What S3Store sends with each put: server-side encryption and Object Lock
 * headers reach the wire. A loopback HTTP server records the request (the
 * behaviour of S3 itself is tested against S3Proxy in test/integration).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { S3Store, type S3StoreOptions } from '../../consumers/object-store/s3-store.js';

async function headersOfPut(options: Partial<S3StoreOptions>): Promise<IncomingHttpHeaders> {
  let seen: IncomingHttpHeaders | undefined;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      if (request.method === 'PUT') seen = request.headers;
      response.writeHead(200, { ETag: '"0"' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const store = new S3Store({
    bucket: 'b',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    ...options,
  });
  try {
    await store.put('events/x.avro', Buffer.from('x'));
  } finally {
    store.close();
    server.close();
  }
  assert.ok(seen, 'the put reached the server');
  return seen;
}

test('SSE-S3 is requested on every put', async () => {
  const headers = await headersOfPut({ serverSideEncryption: 'AES256' });
  assert.equal(headers['x-amz-server-side-encryption'], 'AES256');
});

test('SSE-KMS with its key id is requested on every put', async () => {
  const headers = await headersOfPut({
    serverSideEncryption: 'aws:kms',
    kmsKeyId: 'arn:aws:kms:eu-west-1:1:key/abc',
  });
  assert.equal(headers['x-amz-server-side-encryption'], 'aws:kms');
  assert.equal(
    headers['x-amz-server-side-encryption-aws-kms-key-id'],
    'arn:aws:kms:eu-west-1:1:key/abc',
  );
});

test('Object Lock retention is set on every put', async () => {
  const before = Date.now();
  const headers = await headersOfPut({ objectLock: { mode: 'COMPLIANCE', days: 2555 } });
  assert.equal(headers['x-amz-object-lock-mode'], 'COMPLIANCE');
  assert.ok(
    headers['x-amz-checksum-sha256'] !== undefined || headers['x-amz-trailer'] !== undefined,
    'with the checksum S3 requires',
  );
  const until = Date.parse(String(headers['x-amz-object-lock-retain-until-date']));
  assert.ok(
    until >= before + 2555 * 86_400_000 - 1000 && until <= Date.now() + 2555 * 86_400_000 + 1000,
  );
});

test('without those settings no such header is sent', async () => {
  const headers = await headersOfPut({});
  assert.equal(headers['x-amz-server-side-encryption'], undefined);
  assert.equal(headers['x-amz-object-lock-mode'], undefined);
});
