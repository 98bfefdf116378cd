/**
 * Metrics of the exporter: the exporter group (channel `request`) and the
 * HTTP service (channel `http`), counted once per export when it ends.
 */
import { Counter } from 'prom-client';
import { METRIC_PREFIX, type MetricsOptions, Registry } from '../../common/metrics/metrics.js';
import type { ExportCounts, VerificationSummary } from './export-events.js';

/**
 * How an export ended: `done` (sent whole), `failed`, `aborted` (the client
 * went away), or `skipped` (a request without a readable id).
 */
export type ExportOutcome = 'done' | 'failed' | 'aborted' | 'skipped';

/** One export, as the metrics count it. */
export interface ExportMeasure {
  channel: 'request' | 'http';
  format: string | null;
  outcome: ExportOutcome;
  /** Events exported. */
  rows: number;
  /** Bytes of the export, when the channel knows them (the exporter group's parts). */
  bytes?: number | undefined;
  counts: Readonly<ExportCounts> | null;
  verification: Readonly<VerificationSummary> | null;
}

const E = `${METRIC_PREFIX}exporter_`;

export class ExporterMetrics {
  readonly registry: Registry;
  private readonly exports: Counter;
  private readonly rows: Counter;
  private readonly bytes: Counter;
  private readonly objectsRead: Counter;
  private readonly objectsSkipped: Counter;
  private readonly verificationFailures: Counter;

  constructor(options: MetricsOptions = {}) {
    this.registry = options.registry ?? new Registry();
    const registers = [this.registry];
    const labelNames = ['channel'];
    this.exports = new Counter({
      name: `${E}exports_total`,
      help: 'Exports ended, by channel (request: the exporter group; http: serve), format and outcome (done, failed, aborted, skipped).',
      labelNames: ['channel', 'format', 'outcome'],
      registers,
    });
    this.rows = new Counter({
      name: `${E}rows_total`,
      help: 'Events exported.',
      labelNames,
      registers,
    });
    this.bytes = new Counter({
      name: `${E}bytes_total`,
      help: 'Bytes of the exports the exporter group wrote (its parts).',
      labelNames,
      registers,
    });
    this.objectsRead = new Counter({
      name: `${E}objects_read_total`,
      help: 'Archive objects read whole and decoded.',
      labelNames,
      registers,
    });
    this.objectsSkipped = new Counter({
      name: `${E}objects_skipped_total`,
      help: 'Archive objects skipped by their header summary (time range, packages).',
      labelNames,
      registers,
    });
    this.verificationFailures = new Counter({
      name: `${E}verification_failures_total`,
      help: 'Archive objects read that did not verify against the signed digests.',
      labelNames,
      registers,
    });
  }

  /** An export ended. */
  exported(e: ExportMeasure): void {
    const channel = { channel: e.channel };
    this.exports.inc({ ...channel, format: e.format ?? 'none', outcome: e.outcome });
    this.rows.inc(channel, e.rows);
    if (e.bytes !== undefined) this.bytes.inc(channel, e.bytes);
    this.objectsRead.inc(channel, e.counts?.objectsRead ?? 0);
    this.objectsSkipped.inc(channel, e.counts?.objectsSkipped ?? 0);
    this.verificationFailures.inc(channel, e.verification?.failed.length ?? 0);
  }
}
