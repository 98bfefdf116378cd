/**
 * The local spool as a record source: one partition (`audit.events`/0) whose
 * offsets are the spool's. It reads while the spool's writer appends, and
 * waits `pollMs` when there is nothing new. A commit releases the segments
 * below it and is kept in `COMMITTED` beside them, where a reader that gives
 * no start position goes on; the archiver gives one (the end of its archive).
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { sleepUnlessAborted } from '../../common/abort.js';
import { writeFileAtomically } from '../../common/atomic-file.js';
import { AuditError, AuditErrorCode, StorageError } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { positiveIntegerOption } from '../../common/options.js';
import { listSegments } from '../../common/spool/segments.js';
import { SpoolReader } from '../../common/spool/spool-reader.js';
import { auditEventSchemas, type SchemaSet } from '../../schemas/schema-set.js';
import { sourceRecord } from './decode-record.js';
import type { RecordConsumer, RecordSource, SourceStats } from './record-source.js';

export const LOCAL_TOPIC = 'audit.events';
export const LOCAL_PARTITION = 0;
const COMMITTED_FILE = 'COMMITTED';

export interface SpoolSourceOptions {
  spoolDir: string;
  /** How long to wait when the spool has nothing new. @defaultValue 200 */
  pollMs?: number;
  /** Records read from the spool per batch. @defaultValue 5000 */
  readRecords?: number;
  logger?: Logger;
  schemas?: SchemaSet;
}

export const SPOOL_SOURCE_DEFAULTS = {
  pollMs: 200,
  readRecords: 5000,
} as const satisfies Partial<SpoolSourceOptions>;

export class SpoolSource implements RecordSource {
  readonly topic = LOCAL_TOPIC;
  readonly stats: SourceStats = { batches: 0, records: 0 };
  private readonly reader: SpoolReader;
  private readonly committedPath: string;
  private readonly pollMs: number;
  private readonly readRecords: number;
  private readonly logger: Logger;
  private readonly schemas: SchemaSet;
  private committed: number | undefined;
  private running: Promise<void> | undefined;
  private halted = false;
  /** Aborted on pause and stop: ends a wait for new records at once. */
  private readonly wake = new AbortController();
  private stopping: Promise<void> | undefined;

  constructor(options: SpoolSourceOptions) {
    this.reader = new SpoolReader(options.spoolDir);
    this.committedPath = join(options.spoolDir, COMMITTED_FILE);
    this.pollMs = positiveIntegerOption('pollMs', options.pollMs, SPOOL_SOURCE_DEFAULTS.pollMs);
    this.readRecords = positiveIntegerOption(
      'readRecords',
      options.readRecords,
      SPOOL_SOURCE_DEFAULTS.readRecords,
    );
    this.logger = options.logger ?? silentLogger();
    this.schemas = options.schemas ?? auditEventSchemas();
  }

  start(consumer: RecordConsumer): Promise<void> {
    if (this.running !== undefined)
      throw new AuditError(AuditErrorCode.InvalidState, 'SpoolSource.start() was called twice');
    this.running = this.run(consumer).catch((error: Error) => {
      if (consumer.onFailure === undefined)
        this.logger.error({ err: error.message }, 'spool read failed');
      else consumer.onFailure(error);
    });
    return Promise.resolve();
  }

  private async run(consumer: RecordConsumer): Promise<void> {
    await consumer.assigned([LOCAL_PARTITION]);
    let position: number | undefined;
    while (!this.halted) {
      const from = await consumer.startAt?.(LOCAL_PARTITION);
      position = Math.max(position ?? from ?? this.committedPosition(), from ?? 0);
      const read = await this.reader.read(position, this.readRecords);
      const last = read.at(-1);
      if (last === undefined) {
        await this.idle();
        continue;
      }
      const records = read.map((r) =>
        sourceRecord(this.schemas, {
          topic: LOCAL_TOPIC,
          partition: LOCAL_PARTITION,
          offset: r.offset,
          timestamp: r.appendTime,
          value: r.value,
        }),
      );
      const result = await consumer.batch(records, {
        partition: LOCAL_PARTITION,
        lastOffset: last.offset,
        heartbeat: () => Promise.resolve(),
        isActive: () => !this.halted,
      });
      this.stats.batches++;
      this.stats.records += records.length;
      if (result === undefined)
        await this.idle(); // nothing handled: the same records again
      else if ('seek' in result) position = result.seek;
      else {
        position = result.taken + 1;
        if (result.done !== undefined) await this.commit(LOCAL_PARTITION, result.done + 1);
      }
    }
  }

  private idle(): Promise<void> {
    return sleepUnlessAborted(this.pollMs, this.wake.signal);
  }

  /** The committed position, or the first record the spool holds when nothing was committed. */
  private committedPosition(): number {
    this.committed ??= this.readCommitted();
    return this.committed ?? listSegments(this.reader.dir)[0] ?? 0;
  }

  private readCommitted(): number | undefined {
    let text: string;
    try {
      text = readFileSync(this.committedPath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const offset = Number(text.trim());
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new StorageError(
        AuditErrorCode.SpoolCorrupt,
        `${this.committedPath} holds no offset: ${JSON.stringify(text.slice(0, 40))}`,
      );
    return offset;
  }

  /** Keeps `nextOffset` as the committed position, then releases the segments below it. */
  async commit(partition: number, nextOffset: number): Promise<void> {
    if (partition !== LOCAL_PARTITION)
      throw new AuditError(
        AuditErrorCode.InvalidState,
        `the spool has partition ${LOCAL_PARTITION} only, not ${partition}`,
      );
    if (this.committed !== nextOffset) {
      await writeFileAtomically(this.committedPath, (temp) =>
        writeFile(temp, `${nextOffset}\n`, { mode: 0o600 }),
      );
      this.committed = nextOffset;
    }
    await this.reader.release(nextOffset);
  }

  pause(): void {
    this.halted = true;
    this.wake.abort();
  }

  holdsAssignment(): boolean {
    return true;
  }

  async backlog(): Promise<Map<number, number>> {
    const end = await this.reader.endOffset();
    this.committed ??= this.readCommitted();
    const pending = end > 0 && (this.committed ?? -1) < end;
    return new Map(pending ? [[LOCAL_PARTITION, end]] : []);
  }

  /** Stops after the running batch; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.pause();
      await this.running;
    })();
    return this.stopping;
  }
}
