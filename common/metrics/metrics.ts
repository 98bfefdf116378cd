/**
 * Building blocks of the stages' metrics (prom-client). Each stage has a small
 * metrics class (e.g. ArchiverMetrics) made on a Registry: the command line
 * makes ONE Registry per process and hands it to every component it builds;
 * a library user passes their own, or nothing (then the metrics go to a
 * registry of their own that nobody reads). The global default registry of
 * prom-client is never used, so several components can live in one process.
 *
 * Counts the components already keep (stats objects, counters of the
 * transport) are read when the registry is scraped, not copied on every event:
 * a `sampled` metric sums what its observed components report at that moment.
 */
import { collectDefaultMetrics, Counter, type Gauge, Registry } from 'prom-client';

export { Registry };

/** Prefix of every metric name: `audit_trail_<stage>_<what>_<unit>`. */
export const METRIC_PREFIX = 'audit_trail_';

type Labels = Record<string, string | number>;
/** One value of a sampled metric, with its labels (none for a metric without labels). */
export type Sample = readonly [labels: Labels, value: number];

/** The prom-client class of a sampled metric. */
export type SampledType = typeof Counter | typeof Gauge;

/** One row of a stage's table of sampled metrics. */
export interface SampledMetric {
  /** @defaultValue Counter */
  type?: SampledType;
  name: string;
  help: string;
  labels?: readonly string[];
  /** The values now; several samples with the same labels add up. */
  read: () => Iterable<Sample> | Promise<Iterable<Sample>>;
}

/** Registers each metric of the table: its value is read from the components when the registry is scraped. */
export function registerSampled(registry: Registry, metrics: readonly SampledMetric[]): void {
  for (const { type = Counter, name, help, labels: labelNames = [], read } of metrics)
    new type({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const samples = await read();
        this.reset();
        for (const [labels, value] of samples) this.inc(labels, value);
      },
    });
}

/** What a stage's metrics class takes: the registry to register on. */
export interface MetricsOptions {
  /** @defaultValue a registry of its own, which nobody reads (metrics off) */
  registry?: Registry;
}

/** The registry of a process: the stage metrics and prom-client's process metrics (RSS, CPU, event loop lag). */
export function processRegistry(): Registry {
  const registry = new Registry();
  // their standard names (process_*, nodejs_*), which dashboards already know
  collectDefaultMetrics({ register: registry });
  return registry;
}
