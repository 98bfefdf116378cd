/**
 * What one benchmark figure is: our measurement and its baseline, each a
 * function that runs once and returns one number, measured in the same run of
 * the suite (bench/run.ts) on the same machine and, for Kafka figures, against
 * the same broker. The suite runs both after a warm-up, interleaved (ours,
 * baseline, ours, baseline, ...), keeps the median of each and reports
 * ratio = ours / baseline.
 */

/** What a figure's functions get from the suite. */
export interface BenchContext {
  /** `--quick`: a small version of every figure (the whole suite in under three minutes). */
  quick: boolean;
  /** The local stack's settings (.stack/env), undefined when no stack is running. */
  stack: Readonly<Record<string, string>> | undefined;
  /** A scratch folder of this run, removed at the end. */
  work: string;
  /** `full` normally, `quick` under --quick. */
  size(full: number, quick: number): number;
  /** A progress line on stderr. */
  log(message: string): void;
}

/** Both sides of a figure measured by one run. */
export interface PairedRun {
  ours: number;
  baseline: number;
  note?: string;
}

export interface Figure {
  /** e.g. `produce_vs_kafkajs` */
  name: string;
  /** e.g. `events/s`, `µs/event`, `B/event`, `MiB`. */
  unit: string;
  /** Which way is good: events/s `higher`, µs or bytes or MiB `lower`. */
  better: 'higher' | 'lower';
  /** One line: what ours and the baseline each do, with their settings. */
  description: string;
  /** Needs the local stack (Kafka, S3Proxy); skipped with a reason when it is not running. */
  needsStack: boolean;
  /**
   * Why the figure cannot be measured on this machine (e.g. a client that
   * does not install), or undefined when it can: a reason makes it "not
   * measured", like a missing stack, not a failure. Runs before setup.
   */
  unavailable?(ctx: BenchContext): Promise<string | undefined>;
  /** Runs once before the measured runs (topics, data, warm-up of both sides). */
  setup?(ctx: BenchContext): Promise<void>;
  /** One measurement of ours. */
  ours(ctx: BenchContext): Promise<number>;
  /** One measurement of the baseline. */
  baseline(ctx: BenchContext): Promise<number>;
  /**
   * One run that measures both sides in the same scenario (e.g. an archiver
   * keeping up with producers running at the same time); when present the
   * suite calls it instead of `ours` and `baseline`. `note`: what else the run
   * saw, added to the figure's settings text.
   */
  paired?(ctx: BenchContext): Promise<PairedRun>;
  /**
   * The warm-up, when it is not one round of both sides: a long figure warms
   * up on a smaller run of the same scenario.
   */
  warmUp?(ctx: BenchContext): Promise<void>;
  /** This figure's interleaved rounds, instead of the suite's (a long figure runs fewer; 3 at least). */
  rounds?: { quick: number; full: number };
  teardown?(ctx: BenchContext): Promise<void>;
}

/** The median of `values` (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
