/**
 * The export-request endpoints over loopback on a local store: POST refusals
 * (named, before anything is submitted), status and content read from
 * result.json and parts written as the exporter group writes them, parts
 * checked against their hashes, and results kept to the token that asked.
 * Submission to Kafka itself is tested against the broker in
 * test/integration/http-exports.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import type { HttpAccess } from '../../../consumers/exporter/http/context.js';
import {
  exportPartKey,
  exportResultKey,
  type ExportResult,
} from '../../../consumers/exporter/export-request.js';
import { LocalDirStore } from '../../../consumers/object-store/local-dir-store.js';
import type { ObjectStore } from '../../../consumers/object-store/object-store.js';
import { tempDir } from '../../helpers.js';
import {
  bearer,
  call,
  CountingStore,
  errorOf,
  eventually,
  EXPORTS_PREFIX,
  startService,
  TOKENS,
} from './http-fixtures.js';

const ID = '01938f6e-8a4b-7c3d-9e2f-0123456789ab';

/** Writes `parts` and a done result.json for them, as the exporter group does. */
export async function writeDoneExport(
  store: ObjectStore,
  id: string,
  parts: string[],
  requestedBy = 'alice',
): Promise<ExportResult> {
  const result: ExportResult = {
    id,
    status: 'done',
    format: 'ndjson',
    parts: [],
    events: parts.length,
    counts: {
      objectsListed: 3,
      objectsSelected: 3,
      objectsSkipped: 0,
      objectsRead: 3,
      eventsMatched: parts.length,
    },
    verification: { configured: false, verified: 0, pending: [], failed: [] },
    error: null,
    requested_by: requestedBy,
    completed_at: new Date().toISOString(),
  };
  for (const [index, text] of parts.entries()) {
    const key = exportPartKey(EXPORTS_PREFIX, id, index, 'ndjson');
    const body = Buffer.from(text);
    await store.put(key, body);
    result.parts.push({
      key,
      sha256: createHash('sha256').update(body).digest('hex'),
      bytes: body.length,
    });
  }
  await store.put(exportResultKey(EXPORTS_PREFIX, id), Buffer.from(JSON.stringify(result)));
  return result;
}

async function localStore(t: Parameters<typeof tempDir>[0]): Promise<CountingStore> {
  return new CountingStore(new LocalDirStore(join(await tempDir(t), 'store')));
}

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  call(`${url}/v1/exports`, {
    method: 'POST',
    headers: { ...bearer(TOKENS.alice), 'Content-Type': 'application/json', ...headers },
    body,
  });

test('POST /v1/exports refuses a bad body with the parameter named, and without a submitter answers 503', async (t) => {
  const store = await localStore(t);
  const { url } = await startService(t, { store, maxBodyBytes: 1024 });
  const cases: [string, number, string][] = [
    ['not json', 400, 'body'],
    ['[]', 400, 'body'],
    ['{"filters":{}}', 400, 'format'],
    ['{"format":"xml"}', 400, 'format'],
    ['{"format":"json","filters":[]}', 400, 'filters'],
    ['{"format":"json","filters":{"type":3}}', 400, 'filters.type'],
    ['{"format":"json","filters":{"type":"Bogus"}}', 400, 'filters.type'],
    ['{"format":"json","filters":{"from":"yesterday"}}', 400, 'filters.from'],
    ['{"format":"json","filters":{"success":"maybe"}}', 400, 'filters.success'],
    ['{"format":"json","filters":{"pkg":"x"}}', 400, 'filters.pkg'],
    ['{"format":"json","requested_by":"root"}', 400, 'requested_by'],
    [`{"format":"json","filters":{"package":"${'x'.repeat(2000)}"}}`, 413, 'body'],
  ];
  for (const [body, status, parameter] of cases) {
    const answer = await post(url, body);
    assert.equal(answer.status, status, body.slice(0, 60));
    assert.equal(errorOf(answer).parameter, parameter, body.slice(0, 60));
  }
  const wrongType = await post(url, '{"format":"json"}', { 'Content-Type': 'text/plain' });
  assert.equal(wrongType.status, 415);
  assert.equal(errorOf(wrongType).parameter, 'Content-Type');
  const none = await post(url, '{"format":"json","filters":{"type":["PackageInstall"]}}');
  assert.equal(none.status, 503);
  assert.equal(errorOf(none).code, 'UNAVAILABLE');
  assert.equal(store.reads, 0);
});

test('GET /v1/exports/{id}: 400 for a malformed id, pending without a result, the result once written', async (t) => {
  const store = await localStore(t);
  const { url } = await startService(t, { store });
  for (const id of ['nope', ID.toUpperCase(), `${ID}0`, `${ID.slice(0, -1)}%62`]) {
    const answer = await call(`${url}/v1/exports/${id}`, { headers: bearer(TOKENS.alice) });
    assert.equal(answer.status, 400, id);
    assert.equal(errorOf(answer).parameter, 'id');
  }
  const withQuery = await call(`${url}/v1/exports/${ID}?verbose=1`, {
    headers: bearer(TOKENS.alice),
  });
  assert.equal(withQuery.status, 400);
  assert.equal(errorOf(withQuery).parameter, 'verbose');
  const pending = await call(`${url}/v1/exports/${ID}`, { headers: bearer(TOKENS.alice) });
  assert.equal(pending.status, 200);
  assert.deepEqual(JSON.parse(pending.body.toString()), { id: ID, status: 'pending' });
  const result = await writeDoneExport(store, ID, ['{"a":1}\n', '{"a":2}\n']);
  const done = await call(`${url}/v1/exports/${ID}`, { headers: bearer(TOKENS.alice) });
  assert.equal(done.status, 200);
  assert.deepEqual(JSON.parse(done.body.toString()), result);
});

test('an export is its requester’s: another token gets 404 for its status and content', async (t) => {
  const store = await localStore(t);
  const { url } = await startService(t, { store });
  await writeDoneExport(store, ID, ['{"a":1}\n'], 'alice');
  for (const path of [`/v1/exports/${ID}`, `/v1/exports/${ID}/content`]) {
    const answer = await call(`${url}${path}`, { headers: bearer(TOKENS.bob) });
    assert.equal(answer.status, 404, path);
    assert.equal(errorOf(answer).code, 'NOT_FOUND');
  }
  const own = await call(`${url}/v1/exports/${ID}/content`, { headers: bearer(TOKENS.alice) });
  assert.equal(own.status, 200);
});

test('GET /v1/exports/{id}/content: 404 until there is a result, 409 with the error of a failed one', async (t) => {
  const store = await localStore(t);
  const { url } = await startService(t, { store });
  const pending = await call(`${url}/v1/exports/${ID}/content`, { headers: bearer(TOKENS.alice) });
  assert.equal(pending.status, 404);
  const failed: ExportResult = {
    id: ID,
    status: 'failed',
    format: 'csv',
    parts: [],
    events: 0,
    counts: null,
    verification: null,
    error: { code: 'INVALID_OPTION', message: 'type: must be one of ...', field: 'type' },
    requested_by: 'alice',
    completed_at: new Date().toISOString(),
  };
  await store.put(exportResultKey(EXPORTS_PREFIX, ID), Buffer.from(JSON.stringify(failed)));
  const answer = await call(`${url}/v1/exports/${ID}/content`, { headers: bearer(TOKENS.alice) });
  assert.equal(answer.status, 409);
  assert.deepEqual(errorOf(answer), {
    code: 'INVALID_OPTION',
    message: `export ${ID} failed: type: must be one of ...`,
    parameter: 'type',
  });
});

test('GET /v1/exports/{id}/content streams the parts in order with their length and type, one part read at a time', async (t) => {
  const store = await localStore(t);
  const accesses: HttpAccess[] = [];
  const { url } = await startService(t, { store, onAccess: (a) => void accesses.push(a) });
  const parts = ['{"n":1}\n{"n":2}\n', '{"n":3}\n', '{"n":4}\n{"n":5}\n'];
  await writeDoneExport(store, ID, parts);
  store.gets = 0;
  const answer = await call(`${url}/v1/exports/${ID}/content`, { headers: bearer(TOKENS.alice) });
  assert.equal(answer.status, 200);
  assert.ok(answer.complete);
  assert.equal(answer.body.toString(), parts.join(''));
  assert.equal(answer.headers['content-length'], String(parts.join('').length));
  assert.equal(answer.headers['content-type'], 'application/x-ndjson; charset=utf-8');
  assert.equal(
    answer.headers['content-disposition'],
    `attachment; filename="audit-export-${ID}.ndjson"`,
  );
  assert.equal(store.gets, 1 + parts.length, 'result.json, then each part once');
  await eventually(() => accesses.length === 1, 2000, 'the access');
  assert.equal(accesses[0]?.endpoint, 'export-content');
  assert.equal(accesses[0]?.requestId, ID);
  assert.equal(accesses[0]?.who, 'alice');
  assert.equal(accesses[0]?.error, undefined);
});

test('a part changed in the store is never sent: the first is a JSON error, a later one cuts the body short', async (t) => {
  const store = await localStore(t);
  const accesses: HttpAccess[] = [];
  const { url } = await startService(t, { store, onAccess: (a) => void accesses.push(a) });
  const result = await writeDoneExport(store, ID, ['{"n":1}\n', '{"n":2}\n', '{"n":3}\n']);
  const [first, second] = result.parts;
  // same length, other bytes: only the hash can tell
  await store.put(second?.key ?? '', Buffer.from('{"n":9}\n'));
  const cut = await call(`${url}/v1/exports/${ID}/content`, { headers: bearer(TOKENS.alice) });
  assert.equal(cut.status, 200);
  assert.equal(cut.complete, false);
  assert.equal(cut.body.toString(), '{"n":1}\n', 'nothing of the changed part was sent');
  await eventually(() => accesses.length === 1, 2000, 'the access');
  assert.equal((accesses[0]?.error as { code?: string }).code, 'ARCHIVE_CORRUPT');
  await store.put(first?.key ?? '', Buffer.from('{"n":1}\n{"forged":true}\n'));
  const refused = await call(`${url}/v1/exports/${ID}/content`, { headers: bearer(TOKENS.alice) });
  assert.equal(refused.status, 500);
  assert.equal(errorOf(refused).code, 'ARCHIVE_CORRUPT');
  assert.ok(!refused.body.toString().includes('forged'));
});

test('a result that lists a part outside its export’s folder is refused before anything is read', async (t) => {
  const store = await localStore(t);
  const { url } = await startService(t, { store });
  await store.put('audit/secret.txt', Buffer.from('not for export'));
  const forged: ExportResult = {
    id: ID,
    status: 'done',
    format: 'csv',
    parts: [
      {
        key: 'audit/secret.txt',
        sha256: createHash('sha256').update('not for export').digest('hex'),
        bytes: 14,
      },
    ],
    events: 1,
    counts: null,
    verification: null,
    error: null,
    requested_by: 'alice',
    completed_at: new Date().toISOString(),
  };
  for (const key of [
    'audit/secret.txt',
    `${EXPORTS_PREFIX}/${ID}/../../audit/secret.txt`,
    `${EXPORTS_PREFIX}/other/part-00000.csv`,
  ]) {
    forged.parts[0] = { ...forged.parts[0]!, key };
    await store.put(exportResultKey(EXPORTS_PREFIX, ID), Buffer.from(JSON.stringify(forged)));
    store.gets = 0;
    const answer = await call(`${url}/v1/exports/${ID}/content`, { headers: bearer(TOKENS.alice) });
    assert.equal(answer.status, 500, key);
    assert.equal(errorOf(answer).code, 'ARCHIVE_CORRUPT');
    assert.ok(!answer.body.toString().includes('not for export'));
    assert.equal(store.gets, 1, 'only result.json was read');
  }
});
