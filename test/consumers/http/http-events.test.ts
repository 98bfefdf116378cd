/**
 * GET /v1/events over real HTTP on loopback, from an archive in a local
 * folder written by the embedded pipeline: who is refused (and that nothing is
 * read for them), what is streamed, which parameters are refused by name, and
 * that a client who goes away stops the reads.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateKeyPairSync } from 'node:crypto';
import { archiveObjectKeys, readArchive } from '../../../consumers/exporter/archive-reader.js';
import type { HttpAccess } from '../../../consumers/exporter/http/context.js';
import { LocalDirStore } from '../../../consumers/object-store/local-dir-store.js';
import { FORMAT_CONTENT_TYPE } from '../../../consumers/exporter/export-request.js';
import { collect, tempDir } from '../../helpers.js';
import {
  bearer,
  call,
  CountingStore,
  directExport,
  errorOf,
  eventually,
  PREFIX,
  startService,
  TOKENS,
  writeArchive,
} from './http-fixtures.js';

async function archive(
  t: Parameters<typeof tempDir>[0],
  sizes?: Parameters<typeof writeArchive>[2],
) {
  const local = new LocalDirStore(join(await tempDir(t), 'archive'));
  await writeArchive(t, local, sizes);
  return new CountingStore(local);
}

test('no token, a wrong one or a malformed header: 401 with the challenge, one body for all, and nothing read', async (t) => {
  const store = await archive(t);
  const { url, service } = await startService(t, { store });
  const refusals = [
    {},
    bearer('not-the-token'),
    bearer(`${TOKENS.alice}x`),
    bearer(TOKENS.alice.slice(0, -1)),
    { Authorization: TOKENS.alice },
    { Authorization: `Basic ${Buffer.from(`alice:${TOKENS.alice}`).toString('base64')}` },
    { Authorization: 'Bearer' },
    { Authorization: `Bearer ${TOKENS.alice} ${TOKENS.alice}` },
    { Authorization: `Bearer  ${TOKENS.alice}\u00e9` },
    { Authorization: '' },
  ];
  const bodies = new Set<string>();
  for (const headers of refusals) {
    for (const path of ['/v1/events?format=json', '/v1/exports/nope', '/nothing-here']) {
      const answer = await call(`${url}${path}`, { headers });
      assert.equal(answer.status, 401, `${path} with ${JSON.stringify(headers)}`);
      assert.equal(answer.headers['www-authenticate'], 'Bearer realm="audit-trail"');
      bodies.add(answer.body.toString('utf8'));
    }
  }
  const posted = await call(`${url}/v1/exports`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: '{"format":"json"}',
  });
  assert.equal(posted.status, 401);
  bodies.add(posted.body.toString('utf8'));
  assert.deepEqual(
    [...bodies],
    [
      '{"error":{"code":"UNAUTHORIZED","message":"a valid bearer token is required","parameter":null}}\n',
    ],
  );
  assert.equal(store.reads, 0, 'no archive read for a refused request');
  assert.equal(service.running, 0);
});

test('GET /healthz needs no token; a wrong method gets 405 with Allow, an unknown path 404', async (t) => {
  const store = await archive(t, { runs: 1, perRun: 10 });
  const { url } = await startService(t, { store });
  const health = await call(`${url}/healthz`);
  assert.equal(health.status, 200);
  assert.deepEqual(JSON.parse(health.body.toString()), { status: 'ok' });
  const post = await call(`${url}/v1/events?format=json`, {
    method: 'POST',
    headers: bearer(TOKENS.alice),
  });
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET');
  const del = await call(`${url}/v1/exports`, { method: 'DELETE', headers: bearer(TOKENS.alice) });
  assert.equal(del.status, 405);
  assert.equal(del.headers.allow, 'POST');
  const missing = await call(`${url}/v2/events`, { headers: bearer(TOKENS.alice) });
  assert.equal(missing.status, 404);
  assert.equal(errorOf(missing).code, 'NOT_FOUND');
  assert.equal(store.reads, 0);
});

for (const format of ['json', 'ndjson', 'csv'] as const) {
  test(`GET /v1/events?format=${format} streams what a direct export of the same archive gives, with trailers`, async (t) => {
    const store = await archive(t);
    const accesses: HttpAccess[] = [];
    const { url } = await startService(t, { store, onAccess: (a) => void accesses.push(a) });
    const answer = await call(`${url}/v1/events?format=${format}`, { headers: bearer(TOKENS.bob) });
    assert.equal(answer.status, 200);
    assert.ok(answer.complete);
    assert.equal(answer.headers['content-type'], FORMAT_CONTENT_TYPE[format]);
    assert.match(
      answer.headers['content-disposition'] ?? '',
      new RegExp(`^attachment; filename="audit-export-\\d{8}T\\d{6}Z\\.${format}"$`),
    );
    assert.equal(answer.headers['transfer-encoding'], 'chunked');
    assert.equal(answer.headers['trailer'], 'X-Audit-Verification, X-Audit-Counts');
    assert.equal(answer.headers['cache-control'], 'no-store');
    assert.deepEqual(answer.body, await directExport(store.inner, format));
    const counts = JSON.parse(answer.trailers['x-audit-counts'] ?? 'null') as {
      eventsMatched: number;
    };
    assert.equal(counts.eventsMatched, 750);
    const verification = JSON.parse(answer.trailers['x-audit-verification'] ?? 'null') as {
      configured: boolean;
    };
    assert.equal(verification.configured, false);
    await eventually(() => accesses.length === 1, 2000, 'the access');
    const access = accesses[0];
    assert.equal(access?.who, 'bob');
    assert.equal(access?.from, '127.0.0.1');
    assert.equal(access?.endpoint, 'events');
    assert.equal(access?.format, format);
    assert.equal(access?.events, 750);
    assert.equal(access?.error, undefined);
  });
}

test('filters in the query select as a direct export with the same filter does (type repeated)', async (t) => {
  const store = await archive(t);
  const { url } = await startService(t, { store });
  const answer = await call(
    `${url}/v1/events?format=ndjson&package=p1&type=PackageInstall&type=IntegrityCheck&user=bob`,
    { headers: bearer(TOKENS.alice) },
  );
  assert.equal(answer.status, 200);
  const expected = await directExport(store.inner, 'ndjson', {
    packageName: 'p1',
    eventTypes: ['PackageInstall', 'IntegrityCheck'],
    user: 'bob',
  });
  assert.ok(expected.length > 0);
  assert.deepEqual(answer.body, expected);
  const lines = answer.body.toString('utf8').trim().split('\n');
  for (const line of lines) {
    const event = JSON.parse(line) as { package_name: string; event_type: string; user: string };
    assert.equal(event.package_name, 'p1');
    assert.equal(event.user, 'bob');
    assert.ok(['PackageInstall', 'IntegrityCheck'].includes(event.event_type));
  }
});

test('a bad or unknown parameter is refused with 400 naming it, before anything is read', async (t) => {
  const store = await archive(t, { runs: 1, perRun: 10 });
  const { url } = await startService(t, { store });
  const cases: [string, string][] = [
    ['', 'format'],
    ['format=xml', 'format'],
    ['format=json&format=csv', 'format'],
    ['format=json&type=Bogus', 'type'],
    ['format=json&type=PackageInstall,Nope', 'type'],
    ['format=json&from=yesterday', 'from'],
    ['format=json&to=2026-13-45', 'to'],
    ['format=json&from=2026-02-01&to=2026-01-01', 'from'],
    ['format=json&success=maybe', 'success'],
    ['format=json&package=', 'package'],
    ['format=json&package=a&package=b', 'package'],
    ['format=json&pkg=x', 'pkg'],
    ['format=json&require_verified=yes', 'require_verified'],
    // no verify key on this service: asking for verification cannot be honoured
    ['format=json&require_verified=true', 'require_verified'],
  ];
  for (const [query, parameter] of cases) {
    const answer = await call(`${url}/v1/events?${query}`, { headers: bearer(TOKENS.alice) });
    assert.equal(answer.status, 400, query);
    assert.equal(answer.headers['content-type'], 'application/json; charset=utf-8');
    const error = errorOf(answer);
    assert.equal(error.parameter, parameter, query);
    assert.equal(error.code, 'INVALID_OPTION');
    assert.match(error.message, new RegExp(`^${parameter}: `));
  }
  assert.equal(store.reads, 0);
});

test('a client that disconnects after the first bytes stops the export: the reads stop and no handler runs on', async (t) => {
  // 60 objects of 20 events, each read taking 20 ms: the whole export would take over a second
  const store = await archive(t, { runs: 3, perRun: 400, perObject: 20 });
  const objects = (await collect(store.inner.list(`${PREFIX}/dt=`))).length;
  assert.equal(objects, 60);
  store.delayMs = 20;
  const accesses: HttpAccess[] = [];
  const { url, service } = await startService(t, { store, onAccess: (a) => void accesses.push(a) });
  const firstBytes = await new Promise<number>((resolve, reject) => {
    const req = httpRequest(
      `${url}/v1/events?format=csv`,
      { headers: bearer(TOKENS.alice), agent: false },
      (res) => {
        res.once('data', (chunk: Buffer) => {
          resolve(chunk.length);
          req.destroy();
        });
      },
    );
    req.on('error', (error) => {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(error);
    });
    req.end();
  });
  assert.ok(firstBytes > 0);
  await eventually(() => service.running === 0, 3000, 'the handler to end');
  const readsAtEnd = store.gets;
  assert.ok(readsAtEnd < objects / 2, `${readsAtEnd} of ${objects} objects were read`);
  assert.equal(service.exportsRunning, 0);
  await sleep(300);
  assert.equal(store.gets, readsAtEnd, 'no read after the handler ended');
  assert.equal(accesses.length, 1);
  assert.equal((accesses[0]?.error as Error | undefined)?.name, 'AbortError');
});

test('a failure after the first bytes ends the response without its last chunk; a failure before them is a JSON error', async (t) => {
  const local = new LocalDirStore(join(await tempDir(t), 'archive'));
  await writeArchive(t, local);
  const keys = await collect(local.list(`${PREFIX}/dt=`));
  assert.equal(keys.length, 9);
  const store = new CountingStore(local);
  const accesses: HttpAccess[] = [];
  const { url, service } = await startService(t, { store, onAccess: (a) => void accesses.push(a) });
  // the last object is damaged: the export fails after eight objects were sent
  await local.put(keys[8] as string, Buffer.from('not an archive object'));
  const broken = await call(`${url}/v1/events?format=ndjson`, { headers: bearer(TOKENS.alice) });
  assert.equal(broken.status, 200);
  assert.equal(broken.complete, false, 'the client can tell the body is incomplete');
  assert.equal(broken.trailers['x-audit-counts'], undefined);
  assert.ok(broken.body.length > 0);
  await eventually(() => accesses.length === 1, 2000, 'the access');
  assert.equal((accesses[0]?.error as { code?: string }).code, 'ARCHIVE_CORRUPT');
  // the first object is damaged too: nothing was sent, so the refusal is a status and a JSON error
  await local.put(keys[0] as string, Buffer.from('not an archive object'));
  const refused = await call(`${url}/v1/events?format=ndjson`, { headers: bearer(TOKENS.alice) });
  assert.equal(refused.status, 409);
  assert.equal(errorOf(refused).code, 'ARCHIVE_CORRUPT');
  assert.match(errorOf(refused).message, new RegExp(keys[0] as string));
  await eventually(() => service.running === 0, 2000, 'the handlers to end');
});

test('more exports than the limit at once are refused with 503 and Retry-After, not queued', async (t) => {
  const store = await archive(t, { runs: 1, perRun: 200, perObject: 20 });
  store.delayMs = 100;
  const { url } = await startService(t, { store, maxConcurrentExports: 1 });
  const first = call(`${url}/v1/events?format=json`, { headers: bearer(TOKENS.alice) });
  await eventually(() => store.gets > 0, 2000, 'the first export to start');
  const second = await call(`${url}/v1/events?format=json`, { headers: bearer(TOKENS.bob) });
  assert.equal(second.status, 503);
  assert.equal(second.headers['retry-after'], '2');
  assert.equal(errorOf(second).code, 'BUSY');
  const done = await first;
  assert.equal(done.status, 200);
  assert.equal((JSON.parse(done.body.toString()) as unknown[]).length, 200);
});

test('stopping the service aborts a running export and closes its connection', async (t) => {
  const store = await archive(t, { runs: 1, perRun: 400, perObject: 10 });
  store.delayMs = 30;
  const { url, service } = await startService(t, { store });
  const answer = call(`${url}/v1/events?format=csv`, { headers: bearer(TOKENS.alice) });
  await eventually(() => store.gets > 2, 2000, 'the export to start');
  const started = Date.now();
  await service.close(2000);
  assert.ok(Date.now() - started < 1500, 'the export was aborted, not waited for');
  const cut = await answer;
  assert.equal(cut.complete, false);
  const readsAtClose = store.gets;
  assert.ok(readsAtClose < 40);
  await sleep(200);
  assert.equal(store.gets, readsAtClose);
  await assert.rejects(call(`${url}/healthz`), { code: 'ECONNREFUSED' });
});

test('a direct export holds what the archive holds: the events are those readArchive gives', async (t) => {
  const store = await archive(t, { runs: 1, perRun: 30 });
  const { url } = await startService(t, { store });
  const answer = await call(`${url}/v1/events?format=json`, { headers: bearer(TOKENS.alice) });
  const ids = (JSON.parse(answer.body.toString()) as { id: string }[]).map((e) => e.id);
  const archived = (await collect(readArchive(store.inner, { prefix: PREFIX }))).map((e) => e.id);
  assert.deepEqual(ids, archived);
});

test('with a verify key, an object that does not verify stops the export: before any byte when it is the first, mid-body later', async (t) => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const local = new LocalDirStore(join(await tempDir(t), 'archive'));
  await writeArchive(t, local, { signingKey: privateKey });
  const keys = await collect(archiveObjectKeys(local, PREFIX));
  assert.equal(keys.length, 9);
  const store = new CountingStore(local);
  const accesses: HttpAccess[] = [];
  const { url } = await startService(t, {
    store,
    verifyKey: publicKey,
    graceMs: 3_600_000,
    onAccess: (a) => void accesses.push(a),
  });
  const whole = await call(`${url}/v1/events?format=ndjson`, { headers: bearer(TOKENS.alice) });
  assert.equal(whole.status, 200);
  assert.ok(whole.complete);
  const verified = JSON.parse(whole.trailers['x-audit-verification'] ?? 'null') as {
    configured: boolean;
    verified: number;
    failed_total: number;
  };
  assert.equal(verified.configured, true);
  assert.equal(verified.failed_total, 0);
  assert.ok(verified.verified > 0);

  // one byte changed in the sixth object
  const sixth = keys[5] as string;
  const bytes = await local.get(sixth);
  bytes[bytes.length - 10] = (bytes[bytes.length - 10] ?? 0) ^ 0x01;
  await local.put(sixth, bytes);
  const cut = await call(`${url}/v1/events?format=ndjson`, { headers: bearer(TOKENS.alice) });
  assert.equal(cut.status, 200);
  assert.equal(cut.complete, false, 'the body ends without its last chunk');
  assert.equal(cut.trailers['x-audit-counts'], undefined);
  const sent = cut.body.toString().trim().split('\n').length;
  assert.ok(sent <= 500, `${sent} events sent, none of the changed object's`);
  await eventually(() => accesses.length === 2, 2000, 'the accesses');
  assert.equal((accesses[1]?.error as { code?: string }).code, 'VERIFY_FAILED');

  // without require_verified the changed object is read anyway, and its damaged block still ends the export
  const unverified = await call(`${url}/v1/events?format=ndjson&require_verified=false`, {
    headers: bearer(TOKENS.alice),
  });
  assert.equal(unverified.status, 200);
  assert.equal(unverified.complete, false);
  await eventually(() => accesses.length === 3, 2000, 'the accesses');
  assert.equal((accesses[2]?.error as { code?: string }).code, 'ARCHIVE_CORRUPT');

  const first = keys[0] as string;
  const head = await local.get(first);
  head[head.length - 10] = (head[head.length - 10] ?? 0) ^ 0x01;
  await local.put(first, head);
  const refused = await call(`${url}/v1/events?format=ndjson&require_verified=true`, {
    headers: bearer(TOKENS.alice),
  });
  assert.equal(refused.status, 409);
  assert.equal(errorOf(refused).code, 'VERIFY_FAILED');
  assert.match(errorOf(refused).message, new RegExp(first));
});
