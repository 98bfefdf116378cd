/**
 * Metrics of the publisher: the audit trails of a process and their
 * transports. Read from the counts they keep when the registry is scraped,
 * so `addEvent` pays nothing for them.
 */
import { Gauge } from 'prom-client';
import {
  METRIC_PREFIX,
  type MetricsOptions,
  Registry,
  type Sample,
  registerSampled,
} from '../common/metrics/metrics.js';

/** What a transport reports to the metrics; every count is since it was made. */
export interface TransportCounts {
  /** Events durable on the far side: acknowledged by Kafka, or written and synced to the local spool. */
  acknowledged: number;
  /** Events in the spool not acknowledged yet (local: not yet written and synced). */
  depth: number;
  /** Bytes of the spool on disk. */
  spoolBytes: number;
  /** Sends that failed (and are retried). */
  shipErrors: number;
  /** Producer sessions started anew after a failed send. */
  producerRestarts: number;
}

/** What an audit trail reports to the metrics. */
export interface PublisherCounts {
  /** `kafka`, `local`, or `memory` for a trail without a transport. */
  transport: string;
  /** Events accepted by `addEvent`. */
  added: number;
  /** Of those, written to the local spool (all of them, when the trail has a transport). */
  spooled: number;
  counts: TransportCounts | undefined;
}

const P = `${METRIC_PREFIX}publisher_`;

export class PublisherMetrics {
  readonly registry: Registry;
  private readonly trails = new Set<() => PublisherCounts>();

  constructor(options: MetricsOptions = {}) {
    this.registry = options.registry ?? new Registry();
    const each = (pick: (c: PublisherCounts) => number | undefined): Sample[] =>
      [...this.trails].map((read) => {
        const counts = read();
        return [{ transport: counts.transport }, pick(counts) ?? 0] as const;
      });
    const labels = ['transport'];
    registerSampled(this.registry, [
      {
        name: `${P}events_added_total`,
        help: 'Events accepted by addEvent.',
        labels,
        read: () => each((c) => c.added),
      },
      {
        name: `${P}events_spooled_total`,
        help: 'Events written to the local spool.',
        labels,
        read: () => each((c) => c.spooled),
      },
      {
        name: `${P}events_acknowledged_total`,
        help: 'Events acknowledged by Kafka (acks=all), or written and synced to the local spool.',
        labels,
        read: () => each((c) => c.counts?.acknowledged),
      },
      {
        type: Gauge,
        name: `${P}spool_depth_events`,
        help: 'Events in the spool not acknowledged yet.',
        labels,
        read: () => each((c) => c.counts?.depth),
      },
      {
        type: Gauge,
        name: `${P}spool_bytes`,
        help: 'Bytes of the spool on disk.',
        labels,
        read: () => each((c) => c.counts?.spoolBytes),
      },
      {
        name: `${P}ship_errors_total`,
        help: 'Sends to Kafka that failed (the events stay in the spool and are sent again).',
        labels,
        read: () => each((c) => c.counts?.shipErrors),
      },
      {
        name: `${P}producer_restarts_total`,
        help: 'Kafka producer sessions started anew after a failed send.',
        labels,
        read: () => each((c) => c.counts?.producerRestarts),
      },
    ]);
  }

  /** Reports a trail's counts from now on (called by AuditTrail). */
  observe(read: () => PublisherCounts): void {
    this.trails.add(read);
  }
}
