/**
 * How the suite measures one figure, and the command line of bench/run.ts.
 * Tested in test/bench/measure.test.ts with figures that record their calls.
 */
import type { BenchContext, Figure, PairedRun } from './figure.js';
import { formatValue, measuredResult, type FigureResult } from './report.js';

export const ROUNDS = { quick: 3, full: 5 } as const;

export interface BenchOptions {
  quick: boolean;
  /** Figure names to run; undefined: all. */
  only: string[] | undefined;
  /** Interleaved rounds after the warm-up (3 at least). */
  rounds: number;
  /** Where RESULTS.md and results.json go; undefined: bench/ of the source tree. */
  out: string | undefined;
  /** The local stack's folder; undefined: .stack of the source tree. */
  stack: string | undefined;
}

export const USAGE =
  'usage: node dist/bench/run.js [--quick] [--only name,name] [--rounds N] [--out DIR] [--stack DIR] [--list]';

/** The runner's options; throws a RangeError naming the mistake. */
export function parseBenchArgs(args: readonly string[]): BenchOptions & { list: boolean } {
  const options: BenchOptions & { list: boolean } = {
    quick: false,
    only: undefined,
    rounds: 0,
    out: undefined,
    stack: undefined,
    list: false,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split('=', 2) : [arg];
    const value = (): string => {
      const next = inline ?? args[++i];
      if (next === undefined || next === '') throw new RangeError(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--quick':
        options.quick = true;
        break;
      case '--list':
        options.list = true;
        break;
      case '--only':
        options.only = value()
          .split(',')
          .map((name) => name.trim())
          .filter((name) => name !== '');
        if (options.only.length === 0) throw new RangeError('--only needs figure names');
        break;
      case '--rounds': {
        const text = value();
        const rounds = Number(text);
        if (!Number.isInteger(rounds) || rounds < 3)
          throw new RangeError(`--rounds must be an integer of 3 or more, got ${text}`);
        options.rounds = rounds;
        break;
      }
      case '--out':
        options.out = value();
        break;
      case '--stack':
        options.stack = value();
        break;
      default:
        throw new RangeError(`unknown argument ${arg}`);
    }
  }
  if (options.rounds === 0) options.rounds = options.quick ? ROUNDS.quick : ROUNDS.full;
  return options;
}

/** The figures `only` names, in the suite's order; throws naming any unknown name. */
export function selectFigures(
  figures: readonly Figure[],
  only: readonly string[] | undefined,
): Figure[] {
  const names = new Set<string>();
  for (const figure of figures) {
    if (names.has(figure.name)) throw new RangeError(`two figures are named ${figure.name}`);
    names.add(figure.name);
  }
  if (only === undefined) return [...figures];
  const unknown = only.filter((name) => !names.has(name));
  if (unknown.length > 0)
    throw new RangeError(
      `unknown figure ${unknown.join(', ')}; the figures are ${[...names].join(', ')}`,
    );
  return figures.filter((figure) => only.includes(figure.name));
}

function check(figure: Figure, side: 'ours' | 'baseline', value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new RangeError(`${figure.name}: ${side} returned ${String(value)}, not a measurement`);
  return value;
}

/**
 * Not measured when the figure says it is unavailable here (with its reason);
 * otherwise setup, one warm-up run of each side, then `rounds` interleaved rounds
 * (ours, baseline, ours, baseline, ...), teardown even after a failure. A
 * figure's error becomes a result that is not measured, with the message.
 */
export async function measureFigure(
  figure: Figure,
  ctx: BenchContext,
  rounds: number,
): Promise<FigureResult> {
  const runs = { ours: [] as number[], baseline: [] as number[] };
  const notes: string[] = [];
  const count = figureRounds(figure, ctx.quick, rounds);
  const base = {
    name: figure.name,
    unit: figure.unit,
    better: figure.better,
    description: figure.description,
  };
  try {
    const reason = await figure.unavailable?.(ctx);
    if (reason !== undefined) return { ...base, notMeasured: reason, failed: false };
    try {
      if (figure.setup !== undefined) await figure.setup(ctx);
      ctx.log('warm-up');
      if (figure.warmUp !== undefined) await figure.warmUp(ctx);
      else await measureRound(figure, ctx);
      for (let round = 1; round <= count; round++) {
        const { ours, baseline, note } = await measureRound(figure, ctx);
        runs.ours.push(ours);
        runs.baseline.push(baseline);
        if (note !== undefined) notes.push(`round ${round}: ${note}`);
        ctx.log(
          `round ${round}/${count}: ours ${formatValue(ours)}, baseline ${formatValue(baseline)} ${figure.unit}` +
            (note === undefined ? '' : ` (${note})`),
        );
      }
    } finally {
      if (figure.teardown !== undefined) await figure.teardown(ctx);
    }
  } catch (error) {
    // Whatever a figure raises (a broker refusing, a child process failing) is reported, not thrown.
    const message = error instanceof Error ? error.message : String(error);
    return {
      ...base,
      notMeasured: `failed: ${message}`,
      failed: true,
    };
  }
  const description =
    notes.length === 0 ? figure.description : `${figure.description} ${notes.join('; ')}.`;
  return measuredResult({ ...figure, description }, runs);
}

/** The rounds of `figure`: its own count when it has one (3 at least), else the suite's. */
export function figureRounds(figure: Figure, quick: boolean, rounds: number): number {
  if (figure.rounds === undefined) return rounds;
  return Math.max(3, quick ? figure.rounds.quick : figure.rounds.full);
}

/** One round: ours then the baseline, or both from the figure's paired run. */
async function measureRound(figure: Figure, ctx: BenchContext): Promise<PairedRun> {
  if (figure.paired !== undefined) {
    const run = await figure.paired(ctx);
    return {
      ours: check(figure, 'ours', run.ours),
      baseline: check(figure, 'baseline', run.baseline),
      ...(run.note === undefined ? {} : { note: run.note }),
    };
  }
  const ours = check(figure, 'ours', await figure.ours(ctx));
  return { ours, baseline: check(figure, 'baseline', await figure.baseline(ctx)) };
}
