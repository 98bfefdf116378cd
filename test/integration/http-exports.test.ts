/**
 * The HTTP service against the local stack: a direct export from an archive
 * in S3Proxy, and the export-request flow with a real Kafka topic for the
 * submission and a result written into the bucket as the exporter group
 * writes it (parts, then result.json).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import kafkajs from 'kafkajs';
import { exportEvents } from '../../consumers/exporter/export-events.js';
import {
  exportPartKey,
  exportResultKey,
  parseExportRequest,
  type ExportRequest,
  type ExportResult,
} from '../../consumers/exporter/export-request.js';
import { parseFilter } from '../../consumers/exporter/filter.js';
import { KafkaExportSubmitter } from '../../consumers/exporter/http/kafka-submitter.js';
import { writeExport } from '../../schemas/write-export.js';
import { Writable } from 'node:stream';
import {
  bearer,
  call,
  CountingStore,
  directExport,
  errorOf,
  EXPORTS_PREFIX,
  PREFIX,
  startService,
  TOKENS,
  writeArchive,
} from '../consumers/http/http-fixtures.js';
import { ExporterMember } from '../../consumers/exporter/exporter-member.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTopics, kafkaClient, testBucket } from './stack.js';

/** The first message on `topic`, read by a fresh group from the beginning. */
async function firstMessage(topic: string): Promise<{ key: string; value: Buffer }> {
  const consumer = kafkaClient().consumer({ groupId: `it-http-${randomBytes(4).toString('hex')}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no message on ${topic} within 20 s`)),
        20_000,
      );
      void consumer.run({
        eachMessage: ({ message }) => {
          clearTimeout(timer);
          resolve({ key: message.key?.toString() ?? '', value: message.value ?? Buffer.alloc(0) });
          return Promise.resolve();
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
}

/** Renders `request` from the archive into one part and writes result.json, as the exporter does. */
async function renderAsExporter(
  store: CountingStore,
  request: ExportRequest,
): Promise<ExportResult> {
  const run = exportEvents(store.inner, { prefix: PREFIX, filter: parseFilter(request.filters) });
  const chunks: Buffer[] = [];
  await writeExport(
    request.format,
    run.records,
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(Buffer.from(chunk));
        done();
      },
    }),
  );
  const body = Buffer.concat(chunks);
  const key = exportPartKey(EXPORTS_PREFIX, request.id, 0, request.format);
  await store.put(key, body);
  const result: ExportResult = {
    id: request.id,
    status: 'done',
    format: request.format,
    parts: [{ key, sha256: createHash('sha256').update(body).digest('hex'), bytes: body.length }],
    events: run.counts.eventsMatched,
    counts: run.counts,
    verification: run.verification,
    error: null,
    requested_by: request.requested_by,
    completed_at: new Date().toISOString(),
  };
  await store.put(exportResultKey(EXPORTS_PREFIX, request.id), Buffer.from(JSON.stringify(result)));
  return result;
}

test('GET /v1/events from an archive in S3: the CSV of a direct export, nothing read for a wrong token', async (t) => {
  const { store: s3 } = await testBucket(t);
  await writeArchive(t, s3, { runs: 2, perRun: 150, perObject: 50 });
  const store = new CountingStore(s3);
  const { url } = await startService(t, { store });
  const refused = await call(`${url}/v1/events?format=csv`, { headers: bearer('guess') });
  assert.equal(refused.status, 401);
  assert.equal(store.reads, 0);
  const answer = await call(`${url}/v1/events?format=csv&type=PackageInstall`, {
    headers: bearer(TOKENS.alice),
  });
  assert.equal(answer.status, 200);
  assert.ok(answer.complete);
  const expected = await directExport(s3, 'csv', { eventTypes: ['PackageInstall'] });
  assert.ok(expected.toString().split('\n').length > 10);
  assert.deepEqual(answer.body, expected);
  const counts = JSON.parse(answer.trailers['x-audit-counts'] ?? '{}') as { eventsMatched: number };
  assert.equal(counts.eventsMatched, expected.toString().trim().split('\n').length - 1);
});

test('POST /v1/exports sends the request to the topic (requested_by the token, from the client), then status and content come from the store', async (t) => {
  const { store: s3 } = await testBucket(t);
  await writeArchive(t, s3, { runs: 1, perRun: 200, perObject: 50 });
  const store = new CountingStore(s3);
  const { topic } = await createTopics(t, 1);
  const submitter = new KafkaExportSubmitter(kafkaClient(), topic);
  t.after(() => submitter.close());
  const { url } = await startService(t, { store, submitter });
  const posted = await call(`${url}/v1/exports`, {
    method: 'POST',
    headers: { ...bearer(TOKENS.bob), 'Content-Type': 'application/json; charset=utf-8' },
    body: JSON.stringify({
      format: 'ndjson',
      filters: { package: 'p1', type: ['PackageInstall', 'PackageUpdate'], from: '2020-01-01' },
    }),
  });
  assert.equal(posted.status, 202);
  const answer = JSON.parse(posted.body.toString()) as {
    id: string;
    status_url: string;
    content_url: string;
  };
  assert.equal(posted.headers.location, `/v1/exports/${answer.id}`);
  assert.equal(answer.status_url, `/v1/exports/${answer.id}`);
  assert.equal(answer.content_url, `/v1/exports/${answer.id}/content`);

  const message = await firstMessage(topic);
  assert.equal(message.key, answer.id);
  const request = parseExportRequest(message.value);
  assert.equal(request.id, answer.id);
  assert.equal(request.format, 'ndjson');
  assert.equal(request.requested_by, 'bob');
  assert.equal(request.requested_from, '127.0.0.1');
  assert.deepEqual(request.filters, {
    package: 'p1',
    type: ['PackageInstall', 'PackageUpdate'],
    from: '2020-01-01T00:00:00.000Z',
  });

  const pending = await call(`${url}${answer.status_url}`, { headers: bearer(TOKENS.bob) });
  assert.deepEqual(JSON.parse(pending.body.toString()), { id: answer.id, status: 'pending' });
  const early = await call(`${url}${answer.content_url}`, { headers: bearer(TOKENS.bob) });
  assert.equal(early.status, 404);

  const result = await renderAsExporter(store, request);
  const status = await call(`${url}${answer.status_url}`, { headers: bearer(TOKENS.bob) });
  assert.deepEqual(JSON.parse(status.body.toString()), result);
  const content = await call(`${url}${answer.content_url}`, { headers: bearer(TOKENS.bob) });
  assert.equal(content.status, 200);
  const expected = await directExport(s3, 'ndjson', parseFilter(request.filters));
  assert.ok(expected.length > 0);
  assert.deepEqual(content.body, expected);
  const foreign = await call(`${url}${answer.content_url}`, { headers: bearer(TOKENS.alice) });
  assert.equal(foreign.status, 404);
});

test('a request that cannot reach Kafka is answered 503 with Retry-After, never 202', async (t) => {
  const { store } = await testBucket(t);
  const unreachable = new kafkajs.Kafka({
    clientId: 'it-http-down',
    brokers: ['127.0.0.1:1'],
    connectionTimeout: 300,
    retry: { retries: 0 },
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const submitter = new KafkaExportSubmitter(unreachable, 'it-nowhere');
  t.after(() => submitter.close());
  const { url } = await startService(t, { store, submitter });
  const answer = await call(`${url}/v1/exports`, {
    method: 'POST',
    headers: { ...bearer(TOKENS.alice), 'Content-Type': 'application/json' },
    body: '{"format":"csv"}',
  });
  assert.equal(answer.status, 503);
  assert.equal(answer.headers['retry-after'], '5');
  assert.equal(errorOf(answer).message, 'the export request could not be queued; try again later');
});

test('end to end through the exporter group: POST, the member renders it, status done, content equal to a direct export', async (t) => {
  const { store: s3 } = await testBucket(t);
  await writeArchive(t, s3, { runs: 2, perRun: 300, perObject: 100 });
  const { topic } = await createTopics(t, 1);
  const requests = `${topic}.export.requests`;
  const results = `${topic}.export.results`;
  const admin = kafkaClient().admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: requests, numPartitions: 1, replicationFactor: 1 },
      { topic: results, numPartitions: 1, replicationFactor: 1 },
    ],
  });
  await admin.disconnect();
  t.after(async () => {
    const cleanup = kafkaClient().admin();
    await cleanup.connect();
    await cleanup.deleteTopics({ topics: [requests, results] }).catch(() => undefined);
    await cleanup.disconnect();
  });
  const member = new ExporterMember({
    kafka: kafkaClient(),
    store: s3,
    archivePrefix: PREFIX,
    exportsPrefix: EXPORTS_PREFIX,
    requestsTopic: requests,
    resultsTopic: results,
    groupId: `it-http-exporter-${randomBytes(4).toString('hex')}`,
    sessionTimeoutMs: 6000,
    partBytes: 4096,
  });
  const submitter = new KafkaExportSubmitter(kafkaClient(), requests);
  t.after(async () => {
    await member.stop();
    await submitter.close();
  });
  await member.start();
  const store = new CountingStore(s3);
  const { url } = await startService(t, { store, submitter });
  const filters = { type: ['PackageInstall', 'IntegrityCheck'], user: 'alice' };
  const posted = await call(`${url}/v1/exports`, {
    method: 'POST',
    headers: { ...bearer(TOKENS.alice), 'Content-Type': 'application/json' },
    body: JSON.stringify({ format: 'csv', filters }),
  });
  assert.equal(posted.status, 202, posted.body.toString());
  const { status_url: statusUrl, content_url: contentUrl } = JSON.parse(posted.body.toString()) as {
    status_url: string;
    content_url: string;
  };
  let result: ExportResult | { status: 'pending' } = { status: 'pending' };
  for (
    const deadline = Date.now() + 60_000;
    result.status === 'pending' && Date.now() < deadline;
  ) {
    await sleep(250);
    result = JSON.parse(
      (await call(`${url}${statusUrl}`, { headers: bearer(TOKENS.alice) })).body.toString(),
    ) as typeof result;
  }
  assert.equal(result.status, 'done', JSON.stringify(result));
  const done = result as ExportResult;
  assert.equal(done.requested_by, 'alice');
  assert.ok(done.parts.length > 1, 'the export came in several parts');
  const content = await call(`${url}${contentUrl}`, { headers: bearer(TOKENS.alice) });
  assert.equal(content.status, 200);
  assert.equal(content.headers['content-type'], 'text/csv; charset=utf-8; header=present');
  const expected = await directExport(s3, 'csv', parseFilter(filters));
  assert.equal(content.headers['content-length'], String(expected.length));
  assert.deepEqual(content.body, expected);
});
