/**
 * Where `AuditTrail` sends encoded events. The local transport appends them to
 * the spool; the Kafka transport ships the spool to a topic. Both make an event
 * durable by the time `flush()` resolves.
 */
import type { AuditEventRecord } from '../schemas/event-record.js';
import { Spool, type SpoolOptions } from '../common/spool/spool.js';
import type { TransportCounts } from './publisher-metrics.js';

export interface EventTransport {
  readonly kind: string;
  /** Takes one validated, encoded event; throws an AuditError (and keeps nothing) when it cannot. */
  send(record: AuditEventRecord, encoded: Buffer): void;
  /**
   * Resolves when every event sent so far is durable (local: on disk; Kafka:
   * acknowledged by the broker). With `timeoutMs`, rejects instead of waiting
   * longer, with TIMEOUT or the code of what keeps the server from answering
   * (UNAVAILABLE, AUTH_FAILED); nothing sent is dropped then.
   */
  flush(timeoutMs?: number): Promise<void>;
  /** Flushes (within `timeoutMs`, where the transport waits on a server) and releases everything. */
  close(timeoutMs?: number): Promise<void>;
  /** Events taken but not yet written to local storage: lost if the process ends now. */
  readonly unwritten: number;
  /** Its counts for the metrics (see PublisherMetrics). */
  counts?(): TransportCounts;
}

export class LocalTransport implements EventTransport {
  readonly kind = 'local';
  readonly spool: Spool;
  private readonly firstOffset: number;
  /** Events written and synced by the last `flush()`, for the metrics. */
  private synced = 0;

  constructor(options: SpoolOptions) {
    this.spool = new Spool(options);
    this.firstOffset = this.spool.nextOffset;
  }

  send(_record: AuditEventRecord, encoded: Buffer): void {
    this.spool.append(encoded);
  }

  get unwritten(): number {
    return this.spool.unwrittenRecords;
  }

  async flush(): Promise<void> {
    const target = this.spool.nextOffset;
    await this.spool.flush();
    this.synced = Math.max(this.synced, target - this.firstOffset);
  }

  counts(): TransportCounts {
    const appended = this.spool.nextOffset - this.firstOffset;
    return {
      acknowledged: this.synced,
      depth: appended - this.synced,
      spoolBytes: this.spool.sizeBytes,
      shipErrors: 0,
      producerRestarts: 0,
    };
  }

  close(): Promise<void> {
    return this.spool.close();
  }
}
