import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { cliSettings } from '../../cli/config.js';
import { AuditErrorCode } from '../../common/errors.js';
import { readArchive } from '../../consumers/exporter/archive-reader.js';
import {
  checkExportsPrefix,
  commitFailure,
  readExportResult,
  runExportJob,
} from '../../consumers/exporter/export-job.js';
import { ExportPartSink } from '../../consumers/exporter/export-parts.js';
import {
  exportPartKey,
  exportResultKey,
  type ExportRequest,
} from '../../consumers/exporter/export-request.js';
import type { ObjectStore } from '../../consumers/object-store/object-store.js';
import type { ExportFormat } from '../../schemas/render.js';
import { writeExport } from '../../schemas/write-export.js';
import { AuditError } from '../../common/errors.js';
import { embeddedArchive } from './embedded-archive.js';

const EXPORTS = 'exports';
const ARCHIVE = 'events';

function request(overrides: Partial<ExportRequest> = {}): ExportRequest {
  return {
    id: '0190b6a2-7c3e-7d4a-9b1e-2f3a4b5c6d7e',
    format: 'ndjson',
    filters: {},
    requested_by: 'auditor',
    requested_from: 'host-1',
    submitted_at: '2026-11-29T00:00:00.000Z',
    ...overrides,
  };
}

/** The bytes of an export rendered in one piece, as `audit-trail export` does. */
async function directExport(store: ObjectStore, format: ExportFormat): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  await writeExport(format, readArchive(store, { prefix: ARCHIVE }), sink);
  return Buffer.concat(chunks);
}

async function keysUnder(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of store.list(prefix)) keys.push(key);
  return keys;
}

/** The store, counting the puts of parts. */
function counting(store: ObjectStore): ObjectStore & { partPuts: number } {
  const wrapped = {
    description: store.description,
    partPuts: 0,
    put: async (key: string, body: Buffer) => {
      if (key.includes('/part-')) wrapped.partPuts++;
      await store.put(key, body);
    },
    putIfAbsent: (key: string, body: Buffer) => store.putIfAbsent(key, body),
    get: (key: string) => store.get(key),
    getHead: (key: string, maxBytes: number) => store.getHead(key, maxBytes),
    list: (prefix: string) => store.list(prefix),
    delete: (key: string) => store.delete(key),
  };
  return wrapped;
}

for (const [format, partBytes] of [
  ['ndjson', 1000],
  ['csv', 997],
  ['json', 4096],
] as const) {
  test(`export job (${format}, parts of ${partBytes} bytes): the parts' concatenation is the direct export, each part has its SHA-256, result.json last`, async (t) => {
    const store = await embeddedArchive(t, undefined);
    const expected = await directExport(store, format);
    const { result, reused } = await runExportJob(request({ format }), {
      store,
      archivePrefix: ARCHIVE,
      exportsPrefix: EXPORTS,
      partBytes,
    });
    assert.equal(reused, false);
    assert.equal(result.status, 'done');
    assert.equal(result.events, 750);
    assert.equal(result.parts.length, Math.ceil(expected.length / partBytes));
    const bodies: Buffer[] = [];
    for (const [index, part] of result.parts.entries()) {
      assert.equal(part.key, exportPartKey(EXPORTS, result.id, index, format));
      const body = await store.get(part.key);
      assert.equal(part.bytes, body.length);
      assert.equal(part.sha256, createHash('sha256').update(body).digest('hex'));
      if (index < result.parts.length - 1) assert.equal(body.length, partBytes);
      bodies.push(body);
    }
    assert.ok(Buffer.concat(bodies).equals(expected), 'the parts make up the export');
    assert.deepEqual(await readExportResult(store, EXPORTS, result.id), result);
  });
}

test('export job: a bad filter is a failed result naming the parameter, with no parts', async (t) => {
  const store = await embeddedArchive(t, undefined);
  const { result } = await runExportJob(request({ filters: { type: 'PackageInstal' } }), {
    store,
    archivePrefix: ARCHIVE,
    exportsPrefix: EXPORTS,
  });
  assert.equal(result.status, 'failed');
  assert.equal(result.error?.code, AuditErrorCode.InvalidOption);
  assert.equal(result.error?.field, 'type');
  assert.match(result.error?.message ?? '', /PackageInstal/);
  assert.deepEqual(result.parts, []);
  assert.deepEqual(await keysUnder(store, `${EXPORTS}/`), [exportResultKey(EXPORTS, result.id)]);
  const unknown = await runExportJob(
    request({ id: '0190b6a2-0000-7000-8000-000000000001', filters: { pkg: 'x' } }),
    {
      store,
      archivePrefix: ARCHIVE,
    },
  );
  assert.equal(unknown.result.error?.field, 'pkg');
});

test('export job: an existing result.json is the outcome; nothing is rendered again', async (t) => {
  const base = await embeddedArchive(t, undefined);
  const store = counting(base);
  const options = { store, archivePrefix: ARCHIVE, exportsPrefix: EXPORTS, partBytes: 5000 };
  const first = await runExportJob(request(), options);
  const puts = store.partPuts;
  assert.ok(puts > 1);
  const second = await runExportJob(request({ format: 'csv' }), { ...options, partBytes: 100 });
  assert.equal(second.reused, true);
  assert.deepEqual(second.result, first.result);
  assert.equal(store.partPuts, puts, 'no part written by the second attempt');
});

test('export job: parts a killed attempt left beyond this attempt are deleted before result.json', async (t) => {
  const store = await embeddedArchive(t, undefined);
  const id = request().id;
  // a killed attempt with smaller parts: more of them, and one of another format
  const stale = [3, 7, 50].map((i) => exportPartKey(EXPORTS, id, i, 'ndjson'));
  for (const key of stale) await store.put(key, Buffer.from('stale'));
  await store.put(exportPartKey(EXPORTS, id, 0, 'csv'), Buffer.from('stale'));
  const { result } = await runExportJob(request(), {
    store,
    archivePrefix: ARCHIVE,
    exportsPrefix: EXPORTS,
    partBytes: 64 * 1024,
  });
  assert.equal(result.parts.length, 3);
  const keys = await keysUnder(store, `${EXPORTS}/${id}/`);
  assert.deepEqual(keys, [...result.parts.map((p) => p.key), exportResultKey(EXPORTS, id)].sort());
  const expected = await directExport(store, 'ndjson');
  const bodies = await Promise.all(result.parts.map((p) => store.get(p.key)));
  assert.ok(Buffer.concat(bodies).equals(expected));
});

test('export job: an attempt that finds result.json committed by another stops writing parts and returns that result', async (t) => {
  const base = await embeddedArchive(t, undefined);
  const id = request().id;
  const other = {
    id,
    status: 'done',
    format: 'ndjson',
    parts: [],
    events: 0,
    counts: null,
    verification: null,
    error: null,
    requested_by: 'someone',
    completed_at: '2026-11-29T00:00:00.000Z',
  };
  const store = counting(base);
  const put = store.put.bind(store);
  store.put = async (key, body) => {
    await put(key, body);
    // the other attempt commits right after this one's second part
    if (store.partPuts === 2)
      await base.putIfAbsent(exportResultKey(EXPORTS, id), Buffer.from(JSON.stringify(other)));
  };
  const { result, reused } = await runExportJob(request(), {
    store,
    archivePrefix: ARCHIVE,
    exportsPrefix: EXPORTS,
    partBytes: 1000,
  });
  assert.equal(reused, true);
  assert.deepEqual(result, other);
  assert.equal(store.partPuts, 2, 'no part written after the other attempt committed');
});

test('export job: a request that could not be read gets a failed result under its id', async (t) => {
  const store = await embeddedArchive(t, undefined);
  const error = new AuditError(
    AuditErrorCode.InvalidField,
    'format: must be one of json, ndjson, csv',
    {
      field: 'format',
    },
  );
  const { result } = await commitFailure(request().id, error, { store, archivePrefix: ARCHIVE });
  assert.equal(result.status, 'failed');
  assert.equal(result.format, null);
  assert.deepEqual(result.error, {
    code: 'INVALID_FIELD',
    message: error.message,
    field: 'format',
  });
  assert.deepEqual(await readExportResult(store, EXPORTS, request().id), result);
});

test('part sink: a chunk longer than several parts is cut at byte boundaries, each part at most the part size', async () => {
  const stored: Buffer[] = [];
  const sink = new ExportPartSink(async (index, body) => {
    assert.ok(body.length <= 1000);
    stored.push(Buffer.from(body));
    return `part-${index}`;
  }, 1000);
  const text = 'é'.repeat(2600); // 5200 bytes: parts end inside a two-byte character
  await new Promise<void>((resolve, reject) =>
    sink.end(text, (error?: Error | null) => (error ? reject(error) : resolve())),
  );
  assert.deepEqual(
    stored.map((b) => b.length),
    [1000, 1000, 1000, 1000, 1000, 200],
  );
  assert.equal(Buffer.concat(stored).toString('utf8'), text);
  assert.deepEqual(
    sink.parts.map((p) => p.key),
    ['part-0', 'part-1', 'part-2', 'part-3', 'part-4', 'part-5'],
  );
});

test('exports prefix: one that overlaps the archive prefix is refused, naming the setting', () => {
  assert.throws(() => checkExportsPrefix('events', 'events'), { field: 'exportsPrefix' });
  assert.throws(() => checkExportsPrefix('events', 'events/exports'), { field: 'exportsPrefix' });
  assert.throws(() => checkExportsPrefix('audit/events', 'audit'), { field: 'exportsPrefix' });
  assert.doesNotThrow(() => checkExportsPrefix('events', 'exports'));
  assert.throws(
    () => cliSettings({ AUDIT_ARCHIVE_PREFIX: 'exports-archive', AUDIT_EXPORTS_PREFIX: 'exports' }),
    { code: AuditErrorCode.InvalidOption, field: 'AUDIT_EXPORTS_PREFIX' },
  );
  assert.equal(cliSettings({}).exportsPrefix, 'exports');
});
