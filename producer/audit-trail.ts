/**
 * The audit trail of one process. With no options it keeps events in memory,
 * as a plain collection with exports. Given a spool folder it is durable: every
 * accepted event is encoded (Avro single-object encoding) and appended to the
 * spool, from which the archiver takes it.
 *
 * When an event counts as durable: once `flush()` (or `close()`) has resolved
 * after `addEvent` returned for it. Before that it may sit in a write buffer
 * for up to `spool.lingerMs`.
 */
import { hostname } from 'node:os';
import { RETRY_POLICIES, retry } from '../common/retry.js';
import { AuditErrorCode, AuditError, ConfigError } from '../common/errors.js';
import { exportToFile } from '../schemas/write-export.js';
import type { ExportFormat } from '../schemas/render.js';
import type { AuditEventRecord } from '../schemas/event-record.js';
import { auditEventSchemas } from '../schemas/schema-set.js';
import { encodeSingleObject } from '../schemas/single-object.js';
import { AuditEvent } from './audit-event.js';
import type { SpoolOptions } from '../common/spool/spool.js';
import { type EventTransport, LocalTransport } from './transport.js';
import { validateRecord } from '../schemas/validate.js';
import type { PublisherMetrics } from './publisher-metrics.js';

export interface AuditTrailOptions {
  /**
   * Folder of the local spool. When set, events are written through to it.
   * @defaultValue undefined (memory only)
   */
  spoolDir?: string;
  /** Tuning of the spool (segment size, size limit, write buffer, linger). */
  spool?: Omit<SpoolOptions, 'dir'>;
  /** A transport of your own (e.g. the Kafka one); excludes `spoolDir`. */
  transport?: EventTransport;
  /**
   * Fills `source` of events that have none.
   * @defaultValue the host name
   */
  source?: string;
  /**
   * Keep accepted events in memory for `eventsForPackage` and the exports.
   * Long-running producers that only ship events turn it off.
   * @defaultValue true
   */
  retainInMemory?: boolean;
  /**
   * Where the trail reports its counts (events added, spooled, acknowledged,
   * the spool's depth). Read when the registry is scraped.
   * @defaultValue none
   */
  metrics?: PublisherMetrics;
}

export class AuditTrail {
  private readonly transport: EventTransport | undefined;
  private readonly source: string;
  private readonly retain: boolean;
  private readonly records: AuditEventRecord[] = [];
  private readonly byPackage = new Map<string, AuditEventRecord[]>();
  private accepted = 0;
  private closed = false;

  constructor(options: AuditTrailOptions = {}) {
    if (options.spoolDir !== undefined && options.transport !== undefined) {
      throw new ConfigError('transport', 'give either spoolDir or transport, not both');
    }
    if (options.retainInMemory !== undefined && typeof options.retainInMemory !== 'boolean') {
      throw new ConfigError('retainInMemory', 'must be a boolean');
    }
    this.source = options.source ?? hostname();
    this.retain = options.retainInMemory ?? true;
    this.transport =
      options.transport ??
      (options.spoolDir === undefined
        ? undefined
        : new LocalTransport({ ...options.spool, dir: options.spoolDir }));
    options.metrics?.observe(() => ({
      transport: this.transport?.kind ?? 'memory',
      added: this.accepted,
      spooled: this.transport === undefined ? 0 : this.accepted,
      counts: this.transport?.counts?.(),
    }));
  }

  /** Number of events accepted so far. */
  get size(): number {
    return this.accepted;
  }

  /**
   * Validates and records one event. Throws a ValidationError naming the field on
   * bad input, or a StorageError when the spool cannot take it; nothing is
   * recorded then, and nothing accepted before is affected.
   */
  /**
   * Events accepted but not yet written to the spool: lost if the process ends
   * now (e.g. after a flush failed on a full disk). 0 for a memory-only trail.
   */
  get unwrittenEvents(): number {
    return this.transport?.unwritten ?? 0;
  }

  addEvent(event: AuditEvent): void {
    if (this.closed) throw new AuditError(AuditErrorCode.Closed, 'the audit trail is closed');
    if (!(event instanceof AuditEvent)) {
      throw new AuditError(AuditErrorCode.InvalidField, 'event: must be an AuditEvent', {
        field: 'event',
      });
    }
    this.accept(event.toRecord());
  }

  /**
   * Like `addEvent`, for an event given in its record shape (the field names of
   * the exports and the Avro schema, `timestamp` in ms), as events that arrive
   * as data are: validated once, here, without building an AuditEvent. A
   * record without `source` gets the trail's.
   */
  addRecord(record: AuditEventRecord): void {
    if (this.closed) throw new AuditError(AuditErrorCode.Closed, 'the audit trail is closed');
    // a copy: the trail fills `source` and keeps what it retains, the caller's object stays the caller's
    this.accept({ ...record }, true);
  }

  private accept(record: AuditEventRecord, copyDetails = false): void {
    record.source ??= this.source;
    validateRecord(record);
    if (copyDetails && this.retain) record.details = { ...record.details };
    if (this.transport !== undefined)
      this.transport.send(record, encodeSingleObject(auditEventSchemas(), record));
    this.accepted++;
    if (this.retain) {
      this.records.push(record);
      if (record.package_name !== null) {
        const list = this.byPackage.get(record.package_name);
        if (list === undefined) this.byPackage.set(record.package_name, [record]);
        else list.push(record);
      }
    }
  }

  /**
   * Like `addEvent`, but when the spool is full (SPOOL_FULL) it waits for room,
   * retrying under `RETRY_POLICIES.backpressure`, instead of refusing: the
   * backpressure policy for callers that would rather slow down than drop or
   * fail. Rejects with a retriable TIMEOUT once the next wait would end later
   * than `timeoutMs` (default 60 s) after the call; nothing is recorded then.
   */
  async addEventWhenRoom(event: AuditEvent, options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    try {
      await retry(() => this.addEvent(event), {
        policy: RETRY_POLICIES.backpressure,
        deadline: Date.now() + timeoutMs,
        isRetriable: (error) =>
          error instanceof AuditError && error.code === AuditErrorCode.SpoolFull,
      });
    } catch (error) {
      if (!(error instanceof AuditError) || error.code !== AuditErrorCode.Timeout) throw error;
      const full = error.cause instanceof Error ? error.cause.message : error.message;
      throw new AuditError(
        AuditErrorCode.Timeout,
        `no room in the spool within ${timeoutMs} ms: ${full}`,
        { retriable: true, cause: error.cause },
      );
    }
  }

  /** The events recorded for one package, in the order they were added. */
  eventsForPackage(packageName: string): AuditEvent[] {
    this.assertRetained();
    return (this.byPackage.get(packageName) ?? []).map((record) => AuditEvent.fromRecord(record));
  }

  /** All recorded events, in the order they were added. */
  events(): AuditEvent[] {
    this.assertRetained();
    return this.records.map((record) => AuditEvent.fromRecord(record));
  }

  /** Streams the trail as one JSON array to `path`, replacing the file atomically. */
  exportToJson(path: string): Promise<void> {
    return this.exportTo(path, 'json');
  }

  /** Streams the trail as CSV (header row, RFC 4180, formula cells neutralised) to `path`, atomically. */
  exportToCsv(path: string): Promise<void> {
    return this.exportTo(path, 'csv');
  }

  /** Streams the trail as NDJSON (one object per line) to `path`, atomically. */
  exportToNdjson(path: string): Promise<void> {
    return this.exportTo(path, 'ndjson');
  }

  /**
   * Resolves when every event added so far is durable: written and fdatasync'ed
   * to the spool, and with the Kafka transport also acknowledged by the broker.
   * A no-op in memory-only mode. With `timeoutMs`, rejects instead of waiting
   * longer (TIMEOUT, or with Kafka the code of the last failed send:
   * UNAVAILABLE, AUTH_FAILED); the events stay queued.
   */
  async flush(options: { timeoutMs?: number } = {}): Promise<void> {
    await this.transport?.flush(options.timeoutMs);
  }

  /**
   * Flushes and releases the transport. Further `addEvent` calls throw CLOSED.
   * With Kafka, `timeoutMs` bounds the wait for acknowledgements; events not
   * acknowledged by then stay in the spool for the next run (rejects as `flush`).
   */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.transport?.close(options.timeoutMs);
  }

  private exportTo(path: string, format: ExportFormat): Promise<void> {
    this.assertRetained();
    // a snapshot, so that events added during the export do not change it
    return exportToFile(path, format, this.records.slice());
  }

  private assertRetained(): void {
    if (!this.retain) {
      throw new AuditError(
        AuditErrorCode.NotRetained,
        'this trail does not keep events in memory (retainInMemory: false); export from the archive instead',
      );
    }
  }
}
