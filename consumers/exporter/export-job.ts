/**
 * One export request rendered into the object store:
 *
 *   1. `result.json` exists already (an earlier attempt completed): nothing is
 *      rendered, the stored result is the outcome;
 *   2. the filters are parsed; a bad one gives a `failed` result naming the
 *      parameter;
 *   3. the events are rendered and cut into parts (export-parts.ts), each put
 *      under `exportPartKey` with its SHA-256;
 *   4. parts left by a killed earlier attempt beyond this attempt's count are
 *      deleted, so that exactly one set of parts exists;
 *   5. `result.json` is written with `putIfAbsent`: the single commit point.
 *      Parts without it are invisible; when another attempt committed first,
 *      its result is the outcome.
 *
 * A fault of the request or of the archive it reads (a bad filter, an archive
 * that does not verify or cannot be decoded) is a `failed` result; a fault of
 * the servers (the store unavailable, refused credentials) is thrown, and the
 * request is tried again later.
 */
import type { KeyObject } from 'node:crypto';
import { AuditError, AuditErrorCode, ConfigError, StorageError } from '../../common/errors.js';
import type { ObjectStore } from '../object-store/object-store.js';
import { writeExport } from '../../schemas/write-export.js';
import { exportEvents } from './export-events.js';
import { ExportPartSink } from './export-parts.js';
import {
  exportPartKey,
  exportResultKey,
  isExportId,
  type ExportRequest,
  type ExportResult,
} from './export-request.js';
import { parseFilter, type EventFilter } from './filter.js';

export const EXPORT_JOB_DEFAULTS = {
  /** 8 MiB: a part is one PUT, held in memory while it is written. */
  partBytes: 8 * 1024 * 1024,
  exportsPrefix: 'exports',
} as const;

export interface ExportJobOptions {
  store: ObjectStore;
  /** Key prefix of the archive that is read. */
  archivePrefix: string;
  /** Key prefix of the exports; must not overlap `archivePrefix`. @defaultValue 'exports' */
  exportsPrefix?: string | undefined;
  /** Largest part, in bytes. @defaultValue 8388608 (8 MiB) */
  partBytes?: number | undefined;
  /** Verify every object read against the digests signed by this key; refuse one that does not verify. */
  verifyKey?: KeyObject | undefined;
  /** How old the newest digest of a partition may be. */
  graceMs?: number | undefined;
  /** Partitions (`topic/partition`) the archive must hold, when known. */
  expected?: readonly string[] | undefined;
  /** Stops the rendering: the job ends with the signal's reason and commits nothing. */
  signal?: AbortSignal | undefined;
  /** Called after each archive object read and each part written (a consumer's heartbeat). */
  keepAlive?: (() => void) | undefined;
  /** @defaultValue () => new Date() */
  now?: (() => Date) | undefined;
}

export interface ExportJobOutcome {
  result: ExportResult;
  /** True when the result was read from the store (an earlier attempt committed it). */
  reused: boolean;
}

/** Codes of faults that lie in the request or in the archive it reads: no retry changes them. */
const REQUEST_FAULTS: ReadonlySet<string> = new Set([
  AuditErrorCode.InvalidOption,
  AuditErrorCode.InvalidField,
  AuditErrorCode.VerifyFailed,
  AuditErrorCode.ArchiveCorrupt,
  AuditErrorCode.DecodeFailed,
  AuditErrorCode.UnknownSchema,
]);

/** Whether `error` gets a `failed` result rather than a retry. */
export function isRequestFault(error: unknown): error is AuditError {
  return error instanceof AuditError && !error.retriable && REQUEST_FAULTS.has(error.code);
}

/**
 * Refuses exports and archive prefixes of which one is a prefix of the other:
 * an export would then be listed as archive objects, or an archive object
 * deleted as an orphan part. `field` names the exports prefix in the error.
 */
export function checkExportsPrefix(
  archivePrefix: string,
  exportsPrefix: string,
  field = 'exportsPrefix',
): void {
  if (archivePrefix.startsWith(exportsPrefix) || exportsPrefix.startsWith(archivePrefix))
    throw new ConfigError(
      field,
      `"${exportsPrefix}" overlaps the archive prefix "${archivePrefix}": neither may be a prefix of the other`,
    );
}

/** The committed result of export `id`, or undefined when there is none yet. */
export async function readExportResult(
  store: ObjectStore,
  exportsPrefix: string,
  id: string,
): Promise<ExportResult | undefined> {
  let bytes: Buffer;
  try {
    bytes = await store.get(exportResultKey(exportsPrefix, id));
  } catch (error) {
    if (error instanceof AuditError && error.code === AuditErrorCode.NotFound) return undefined;
    throw error;
  }
  try {
    return JSON.parse(bytes.toString('utf8')) as ExportResult;
  } catch (cause) {
    throw new StorageError(
      AuditErrorCode.InvalidState,
      `${exportResultKey(exportsPrefix, id)} is not JSON`,
      { cause },
    );
  }
}

/** A failed result naming the error's code, message and field. */
export function failedResult(
  id: string,
  error: AuditError,
  request: Partial<Pick<ExportRequest, 'format' | 'requested_by'>>,
  completedAt: Date,
): ExportResult {
  return {
    id,
    status: 'failed',
    format: request.format ?? null,
    parts: [],
    events: 0,
    counts: null,
    verification: null,
    error: { code: error.code, message: error.message, field: error.field ?? null },
    requested_by: request.requested_by ?? null,
    completed_at: completedAt.toISOString(),
  };
}

/** Signals that another attempt committed the result while this one was rendering. */
class Superseded extends Error {}

function resolved(options: ExportJobOptions): {
  exportsPrefix: string;
  partBytes: number;
  now: () => Date;
} {
  const exportsPrefix = options.exportsPrefix ?? EXPORT_JOB_DEFAULTS.exportsPrefix;
  checkExportsPrefix(options.archivePrefix, exportsPrefix);
  const partBytes = options.partBytes ?? EXPORT_JOB_DEFAULTS.partBytes;
  if (!Number.isSafeInteger(partBytes) || partBytes < 1)
    throw new ConfigError('partBytes', `must be a positive whole number, got ${partBytes}`);
  return { exportsPrefix, partBytes, now: options.now ?? (() => new Date()) };
}

/** Commits `result` unless a result exists; the stored one wins. */
async function commit(
  store: ObjectStore,
  exportsPrefix: string,
  result: ExportResult,
): Promise<ExportJobOutcome> {
  const key = exportResultKey(exportsPrefix, result.id);
  if (await store.putIfAbsent(key, Buffer.from(`${JSON.stringify(result, null, 2)}\n`)))
    return { result, reused: false };
  const stored = await readExportResult(store, exportsPrefix, result.id);
  if (stored === undefined)
    throw new StorageError(AuditErrorCode.InvalidState, `${key} was there, then was not`);
  return { result: stored, reused: true };
}

/**
 * The result of a request that could not be read, when an id could be: a
 * failed result, committed as any other.
 */
export async function commitFailure(
  id: string,
  error: AuditError,
  options: ExportJobOptions,
): Promise<ExportJobOutcome> {
  if (!isExportId(id)) throw new ConfigError('id', 'must be a UUID in lower case');
  const { exportsPrefix, now } = resolved(options);
  const stored = await readExportResult(options.store, exportsPrefix, id);
  if (stored !== undefined) return { result: stored, reused: true };
  return commit(options.store, exportsPrefix, failedResult(id, error, {}, now()));
}

/** Deletes parts of `id` that this attempt did not write (left by a killed attempt). */
async function deleteOrphanParts(
  store: ObjectStore,
  exportsPrefix: string,
  id: string,
  written: ReadonlySet<string>,
): Promise<number> {
  const orphans: string[] = [];
  for await (const key of store.list(`${exportsPrefix}/${id}/part-`))
    if (!written.has(key)) orphans.push(key);
  for (const key of orphans) await store.delete(key);
  return orphans.length;
}

/** Renders `request` into the store and commits its result (see the steps above). */
export async function runExportJob(
  request: ExportRequest,
  options: ExportJobOptions,
): Promise<ExportJobOutcome> {
  const { store } = options;
  const { exportsPrefix, partBytes, now } = resolved(options);
  const committed = async (): Promise<ExportResult | undefined> =>
    readExportResult(store, exportsPrefix, request.id);
  const stored = await committed();
  if (stored !== undefined) return { result: stored, reused: true };
  let filter: EventFilter;
  try {
    filter = parseFilter(request.filters);
  } catch (error) {
    if (!isRequestFault(error)) throw error;
    return commit(store, exportsPrefix, failedResult(request.id, error, request, now()));
  }
  const run = exportEvents(store, {
    prefix: options.archivePrefix,
    filter,
    verifyKey: options.verifyKey,
    requireVerified: options.verifyKey !== undefined,
    graceMs: options.graceMs,
    expected: options.expected,
    signal: options.signal,
    onProgress: () => options.keepAlive?.(),
  });
  const sink = new ExportPartSink(async (index, body) => {
    // a member that lost the request to another one stops writing once that one has committed
    if ((await committed()) !== undefined) throw new Superseded();
    const key = exportPartKey(exportsPrefix, request.id, index, request.format);
    await store.put(key, body);
    options.keepAlive?.();
    return key;
  }, partBytes);
  try {
    await writeExport(request.format, run.records, sink);
  } catch (error) {
    if (error instanceof Superseded) {
      const winner = await committed();
      if (winner !== undefined) return { result: winner, reused: true };
    }
    if (!isRequestFault(error)) throw error;
    // a failed result has no parts: those written before the fault go
    await deleteOrphanParts(store, exportsPrefix, request.id, new Set());
    return commit(store, exportsPrefix, failedResult(request.id, error, request, now()));
  }
  const written = new Set(sink.parts.map((part) => part.key));
  await deleteOrphanParts(store, exportsPrefix, request.id, written);
  return commit(store, exportsPrefix, {
    id: request.id,
    status: 'done',
    format: request.format,
    parts: sink.parts,
    events: run.counts.eventsMatched,
    counts: { ...run.counts },
    verification: run.verification,
    error: null,
    requested_by: request.requested_by,
    completed_at: now().toISOString(),
  });
}
