/**
 * What a run of the suite reports: one result per figure (measured, or not
 * measured with the reason), the machine it ran on, and the two renderings
 * bench/run.ts writes: bench/RESULTS.md (a table) and bench/results.json.
 * Pure functions, tested in test/bench/report.test.ts.
 */
import { median, type Figure } from './figure.js';

/** The raw values of one side, in the order they were measured (warm-up excluded). */
export interface Runs {
  ours: number[];
  baseline: number[];
}

interface ResultBase {
  name: string;
  unit: string;
  better: Figure['better'];
  description: string;
}

export interface MeasuredResult extends ResultBase {
  ours: number;
  baseline: number;
  /** ours / baseline; NaN when the baseline is 0. */
  ratio: number;
  runs: Runs;
}

export interface NotMeasuredResult extends ResultBase {
  /** Why: no stack, or the error the figure raised. */
  notMeasured: string;
  /** True when the figure raised an error (the run exits non-zero). */
  failed: boolean;
}

export type FigureResult = MeasuredResult | NotMeasuredResult;

export function isMeasured(result: FigureResult): result is MeasuredResult {
  return !('notMeasured' in result);
}

export interface Machine {
  cpu: string;
  cpus: number;
  ramGiB: number;
  os: string;
  node: string;
  kafkajs: string;
  broker: string;
  kcat: string;
  /** The 1, 5 and 15 minute load averages at the start and at the end of the run. */
  load: string;
}

export interface Report {
  /** ISO 8601, UTC. */
  date: string;
  mode: 'quick' | 'full';
  /** Interleaved rounds of each side after the warm-up. */
  rounds: number;
  machine: Machine;
  results: FigureResult[];
}

/** ours / baseline, NaN when the baseline is 0 or either is not finite. */
export function ratio(ours: number, baseline: number): number {
  if (!Number.isFinite(ours) || !Number.isFinite(baseline) || baseline === 0) return Number.NaN;
  return ours / baseline;
}

/** A figure's result from its raw runs: the median of each side and their ratio. */
export function measuredResult(figure: ResultBase, runs: Runs): MeasuredResult {
  const ours = median(runs.ours);
  const baseline = median(runs.baseline);
  return {
    name: figure.name,
    unit: figure.unit,
    better: figure.better,
    description: figure.description,
    ours,
    baseline,
    ratio: ratio(ours, baseline),
    runs: { ours: [...runs.ours], baseline: [...runs.baseline] },
  };
}

/** A value with three significant digits at most, thousands separated: 12,345 / 123 / 12.3 / 1.23 / 0.0123. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return Math.round(value).toLocaleString('en-US');
  if (magnitude === 0) return '0';
  return String(Number(value.toPrecision(3)));
}

export function formatRatio(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : 'n/a';
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

/** The ratio's reading: which way is good for this figure. */
function goodWay(better: Figure['better']): string {
  return better === 'higher' ? 'higher is better' : 'lower is better';
}

/** bench/RESULTS.md */
export function renderMarkdown(report: Report): string {
  const lines = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench${report.mode === 'quick' ? ' -- --quick' : ''}\` (bench/run.ts) on ${report.date}: ` +
      `${report.mode === 'quick' ? 'quick run (small sizes)' : 'full run'}, one warm-up run of each side, ` +
      `then ${report.rounds} interleaved rounds (ours, baseline, ours, ...); the medians are shown.`,
    'ratio = ours / baseline, measured in the same run on the same machine (and the same broker for Kafka ' +
      'figures); the "better" column says which way is good for the value, and so for the ratio.',
    '',
    '| figure | ours | baseline | ratio | unit | better | settings |',
    '| --- | ---: | ---: | ---: | --- | --- | --- |',
  ];
  for (const result of report.results) {
    const [ours, baseline, ratioText] = isMeasured(result)
      ? [formatValue(result.ours), formatValue(result.baseline), formatRatio(result.ratio)]
      : ['not measured', 'not measured', 'n/a'];
    const settings = isMeasured(result)
      ? result.description
      : `${result.description} **Not measured**: ${result.notMeasured}`;
    lines.push(
      `| ${cell(result.name)} | ${ours} | ${baseline} | ${ratioText} | ${cell(result.unit)} | ` +
        `${goodWay(result.better)} | ${cell(settings)} |`,
    );
  }
  const { machine } = report;
  lines.push(
    '',
    '## Machine',
    '',
    `- CPU: ${machine.cpu}, ${machine.cpus} logical CPUs`,
    `- RAM: ${machine.ramGiB.toFixed(1)} GiB`,
    `- OS: ${machine.os}`,
    `- Node.js: ${machine.node}`,
    `- kafkajs: ${machine.kafkajs}`,
    `- Kafka broker: ${machine.broker}`,
    `- kcat: ${machine.kcat}`,
    `- load average (1, 5, 15 min): ${machine.load}`,
    `- date: ${report.date}`,
    `- run: ${report.mode}`,
    '',
  );
  return lines.join('\n');
}

/** bench/results.json: one object per figure with the raw values of each side. */
export function renderJson(report: Report): string {
  const figures = report.results.map((result) =>
    isMeasured(result)
      ? {
          name: result.name,
          ours: result.ours,
          baseline: result.baseline,
          ratio: Number.isFinite(result.ratio) ? result.ratio : null,
          unit: result.unit,
          better: result.better,
          runs: result.runs,
        }
      : {
          name: result.name,
          ours: null,
          baseline: null,
          ratio: null,
          unit: result.unit,
          better: result.better,
          runs: { ours: [], baseline: [] },
          notMeasured: result.notMeasured,
        },
  );
  return (
    JSON.stringify(
      {
        date: report.date,
        mode: report.mode,
        rounds: report.rounds,
        machine: report.machine,
        figures,
      },
      null,
      2,
    ) + '\n'
  );
}
