/**
 * What the HTTP service tests share: an archive written by the embedded
 * pipeline, a store that counts (and may slow) the reads of another, a tokens
 * file, a running service on loopback, and a client that keeps the trailers
 * and tells whether the body came whole.
 */
import type { KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestContext } from 'node:test';
import { ARCHIVER_DEFAULTS } from '../../../consumers/archiver/archiver.js';
import { spoolArchiver } from '../../../consumers/archiver/spool-archiver.js';
import { readArchive } from '../../../consumers/exporter/archive-reader.js';
import { filterRecords, type EventFilter } from '../../../consumers/exporter/filter.js';
import type { HttpServiceOptions } from '../../../consumers/exporter/http/context.js';
import { HttpService } from '../../../consumers/exporter/http/service.js';
import { TokensFile, tokenLine } from '../../../consumers/exporter/http/tokens.js';
import type { ObjectStore } from '../../../consumers/object-store/object-store.js';
import { AuditEvent } from '../../../producer/audit-event.js';
import { AuditTrail } from '../../../producer/audit-trail.js';
import { AUDIT_EVENT_TYPES } from '../../../schemas/event-type.js';
import type { ExportFormat } from '../../../schemas/render.js';
import { writeExport } from '../../../schemas/write-export.js';
import { tempDir } from '../../helpers.js';

export const PREFIX = ARCHIVER_DEFAULTS.prefix;
export const EXPORTS_PREFIX = 'exports';

/**
 * Writes `runs` runs of `perRun` events (types and packages in turn) into
 * `store` in objects of `perObject` events, with digests when `signingKey` is given.
 */
export async function writeArchive(
  t: TestContext,
  store: ObjectStore,
  { runs = 3, perRun = 250, perObject = 100, signingKey = undefined as KeyObject | undefined } = {},
): Promise<void> {
  const spoolDir = join(await tempDir(t), 'spool');
  for (let run = 0; run < runs; run++) {
    const trail = new AuditTrail({ spoolDir });
    for (let i = 0; i < perRun; i++) {
      const type = AUDIT_EVENT_TYPES[i % AUDIT_EVENT_TYPES.length] ?? 'IntegrityCheck';
      trail.addEvent(
        new AuditEvent(type)
          .withPackageName(`p${i % 5}`)
          .withPackageVersion('1.0.0')
          .withUser(i % 2 === 0 ? 'alice' : 'bob'),
      );
    }
    await trail.close();
    await spoolArchiver({ spoolDir, store, batch: { maxEvents: perObject }, signingKey }).drain();
  }
}

/** A store that counts the reads (list, get and getHead) of `inner` and may wait before each get. */
export class CountingStore implements ObjectStore {
  readonly inner: ObjectStore;
  gets = 0;
  lists = 0;
  delayMs = 0;

  constructor(inner: ObjectStore) {
    this.inner = inner;
  }

  get description(): string {
    return `counting:${this.inner.description}`;
  }

  get reads(): number {
    return this.gets + this.lists;
  }

  put(key: string, body: Buffer): Promise<void> {
    return this.inner.put(key, body);
  }

  putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    return this.inner.putIfAbsent(key, body);
  }

  async get(key: string): Promise<Buffer> {
    this.gets++;
    if (this.delayMs > 0) await sleep(this.delayMs);
    return this.inner.get(key);
  }

  async getHead(key: string, maxBytes: number): Promise<Buffer> {
    this.gets++;
    if (this.delayMs > 0) await sleep(this.delayMs);
    return this.inner.getHead(key, maxBytes);
  }

  list(prefix: string): AsyncIterable<string> {
    this.lists++;
    return this.inner.list(prefix);
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
}

/** A direct export of `store` in `format`, as the CLI renders it. */
export async function directExport(
  store: ObjectStore,
  format: ExportFormat,
  filter: EventFilter = {},
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  await writeExport(format, filterRecords(readArchive(store, { prefix: PREFIX }), filter), sink);
  return Buffer.concat(chunks);
}

export const TOKENS = {
  alice: 'alice-token-0123456789abcdefghijklmnopqrstuvw',
  bob: 'bob-token-0123456789abcdefghijklmnopqrstuvwxyz',
} as const;

/** A tokens file (mode 600) with the tokens of TOKENS. */
export async function tokensFile(t: TestContext): Promise<string> {
  const path = join(await tempDir(t), 'tokens');
  await writeFile(
    path,
    `# test tokens\n${tokenLine('alice', TOKENS.alice)}${tokenLine('bob', TOKENS.bob)}`,
    { mode: 0o600 },
  );
  return path;
}

export interface RunningService {
  service: HttpService;
  url: string;
  tokensPath: string;
}

/** A service on 127.0.0.1 (any free port), closed after the test. */
export async function startService(
  t: TestContext,
  options: Partial<HttpServiceOptions> & { store: ObjectStore },
): Promise<RunningService> {
  const tokensPath = await tokensFile(t);
  const tokens = await TokensFile.open(tokensPath, () => undefined);
  const service = new HttpService({
    prefix: PREFIX,
    exportsPrefix: EXPORTS_PREFIX,
    authenticate: async (header) => (await tokens.current()).authenticate(header),
    ...options,
  });
  const address = await service.listen(0, '127.0.0.1');
  t.after(() => service.close(1000));
  return { service, url: `http://127.0.0.1:${address.port}`, tokensPath };
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  trailers: NodeJS.Dict<string>;
  body: Buffer;
  /** Whether the body arrived whole (the last chunk, or all of Content-Length). */
  complete: boolean;
}

export const bearer = (token: string): Record<string, string> => ({
  Authorization: `Bearer ${token}`,
});

/** One request; the answer once its body ended or the connection broke. */
export function call(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        let settled = false;
        const done = (): void => {
          if (settled) return;
          settled = true;
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            trailers: res.trailers,
            body: Buffer.concat(chunks),
            complete: res.complete,
          });
        };
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', done);
        res.on('error', done);
        res.on('close', done);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export const errorOf = (
  answer: Answer,
): { code: string; message: string; parameter: string | null } =>
  (
    JSON.parse(answer.body.toString('utf8')) as {
      error: { code: string; message: string; parameter: string | null };
    }
  ).error;

/** Waits until `condition` holds; fails after `timeoutMs`. */
export async function eventually(
  condition: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}
