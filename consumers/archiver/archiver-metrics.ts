/**
 * Metrics of the archiver. The counts of `Archiver.stats` are read when the
 * registry is scraped; object sizes, upload times and retries are recorded
 * where they happen (once per object or per retry, never per event).
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import {
  METRIC_PREFIX,
  type MetricsOptions,
  Registry,
  type Sample,
  registerSampled,
} from '../../common/metrics/metrics.js';
import type { ObjectStore } from '../object-store/object-store.js';
import type { ArchiveStats } from './archiver-options.js';

/** What an archiver reports to its metrics. */
export interface ObservedArchiver {
  readonly stats: ArchiveStats;
  /** Per partition this archiver handles: records on the source beyond what it has archived. */
  lag(): Promise<ReadonlyMap<number, number>>;
}

const A = `${METRIC_PREFIX}archiver_`;

export class ArchiverMetrics {
  readonly registry: Registry;
  private readonly archivers = new Set<ObservedArchiver>();
  private readonly batchEvents: Histogram;
  private readonly uploadSeconds: Histogram;
  private readonly bytesWritten: Counter;
  private readonly storeRetries: Counter;

  constructor(options: MetricsOptions = {}) {
    this.registry = options.registry ?? new Registry();
    const registry = this.registry;
    const stat = (pick: (s: ArchiveStats) => number): Sample[] =>
      [...this.archivers].map((archiver) => [{}, pick(archiver.stats)] as const);
    registerSampled(registry, [
      {
        name: `${A}records_in_total`,
        help: 'Records taken from the source (events, duplicates and dead letters).',
        read: () => stat((s) => s.records),
      },
      {
        name: `${A}events_archived_total`,
        help: 'Events in the archive objects written.',
        read: () => stat((s) => s.events),
      },
      {
        name: `${A}objects_written_total`,
        help: 'Archive objects written.',
        read: () => stat((s) => s.objects),
      },
      {
        name: `${A}duplicates_dropped_total`,
        help: 'Records dropped as duplicates of an event already archived.',
        read: () => stat((s) => s.duplicatesDropped),
      },
      {
        name: `${A}dead_letters_total`,
        help: 'Records that do not decode, sent to the dead letters.',
        read: () => stat((s) => s.deadLetters),
      },
      {
        type: Gauge,
        name: `${A}consumer_lag_events`,
        help: 'Records on the source beyond what this archiver has archived, per partition it handles.',
        labels: ['partition'],
        read: async () => {
          const samples: Sample[] = [];
          for (const archiver of this.archivers)
            for (const [partition, lag] of await archiver.lag()) samples.push([{ partition }, lag]);
          return samples;
        },
      },
    ]);
    this.batchEvents = new Histogram({
      name: `${A}batch_events`,
      help: 'Events per archive object written.',
      buckets: [1, 10, 100, 1000, 5000, 10_000, 50_000, 100_000],
      registers: [registry],
    });
    this.uploadSeconds = new Histogram({
      name: `${A}upload_duration_seconds`,
      help: 'Time of one write to the object store (archive objects, their claims, digests), retries apart.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.bytesWritten = new Counter({
      name: `${A}bytes_written_total`,
      help: 'Bytes written to the object store (archive objects, their claims, digests).',
      registers: [registry],
    });
    this.storeRetries = new Counter({
      name: `${A}store_retries_total`,
      help: 'Object store operations retried after a retriable failure.',
      registers: [registry],
    });
  }

  /** Reports an archiver's counts and lag from now on (called by Archiver). */
  observe(archiver: ObservedArchiver): void {
    this.archivers.add(archiver);
  }

  /** An archive object of `events` events was written. */
  objectWritten(events: number): void {
    this.batchEvents.observe(events);
  }

  storeRetried(): void {
    this.storeRetries.inc();
  }

  /** The store, with its writes timed and their bytes counted. */
  meter(store: ObjectStore): ObjectStore {
    const timed = async <T>(body: Buffer, write: () => Promise<T>): Promise<T> => {
      const end = this.uploadSeconds.startTimer();
      const result = await write();
      end();
      this.bytesWritten.inc(body.length);
      return result;
    };
    return {
      description: store.description,
      put: (key, body) => timed(body, () => store.put(key, body)),
      putIfAbsent: (key, body) => timed(body, () => store.putIfAbsent(key, body)),
      get: (key) => store.get(key),
      getHead: (key, maxBytes) => store.getHead(key, maxBytes),
      list: (prefix) => store.list(prefix),
      delete: (key) => store.delete(key),
    };
  }
}
