/**
 * The benchmark suite: every figure of dist/bench/figures/*.js (each module
 * exports `figures: Figure[]`), each measured against its baseline in this
 * run: setup, one warm-up run of each side, interleaved rounds (3 under
 * --quick, 5 otherwise), medians, ratio = ours / baseline. Figures that need
 * the local stack are reported as not measured, with the reason, when it is
 * not running. Writes bench/RESULTS.md and bench/results.json.
 *
 *   npm run bench -- [--quick] [--only name,name] [--rounds N] [--out DIR] [--stack DIR] [--list]
 *
 * Exits 1 when a figure failed (its error is in the results), 2 on a usage mistake.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem, type as osType } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchContext, Figure } from './figure.js';
import { parseBenchArgs, measureFigure, selectFigures, USAGE } from './measure.js';
import {
  formatRatio,
  formatValue,
  isMeasured,
  renderJson,
  renderMarkdown,
  type FigureResult,
  type Machine,
} from './report.js';
import { brokerVersion, localStack } from './stack-status.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIGURES = fileURLToPath(new URL('./figures/', import.meta.url));

function say(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

/** Every figure of dist/bench/figures/*.js, in file then declaration order. */
async function loadFigures(): Promise<Figure[]> {
  if (!existsSync(FIGURES)) return [];
  const files = readdirSync(FIGURES)
    .filter((name) => name.endsWith('.js'))
    .sort();
  const figures: Figure[] = [];
  for (const file of files) {
    const module = (await import(pathToFileURL(join(FIGURES, file)).href)) as {
      figures?: unknown;
    };
    if (module.figures === undefined) continue; // a helper module of the figures
    if (!Array.isArray(module.figures))
      throw new TypeError(`bench/figures/${file}: figures is not an array`);
    figures.push(...(module.figures as Figure[]));
  }
  return figures;
}

function osName(): string {
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (pretty?.[1] !== undefined) return `${pretty[1]}, ${osType()} ${release()}`;
  } catch {
    // ENOENT: not a Linux distribution with /etc/os-release
  }
  return `${osType()} ${release()}`;
}

/** The load averages, e.g. `0.52, 0.61, 0.70`. */
function loadAverages(): string {
  return loadavg()
    .map((load) => load.toFixed(2))
    .join(', ');
}

function machine(stackDir: string, loadAtStart: string): Machine {
  const kafkajs = JSON.parse(
    readFileSync(join(ROOT, 'node_modules', 'kafkajs', 'package.json'), 'utf8'),
  ) as { version: string };
  const kcat = spawnSync('kcat', ['-V'], { encoding: 'utf8' });
  const kcatVersion = /^Version (\S+)(?:.*(librdkafka [\d.]+))?/m.exec(kcat.stdout ?? '');
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cpus: cpus().length,
    ramGiB: totalmem() / 2 ** 30,
    os: osName(),
    node: process.version,
    kafkajs: kafkajs.version,
    broker: brokerVersion(stackDir),
    kcat:
      kcat.error !== undefined
        ? 'not installed'
        : kcatVersion === null
          ? 'unknown'
          : [kcatVersion[1], kcatVersion[2]].filter((part) => part !== undefined).join(', '),
    load: `${loadAtStart} at the start, ${loadAverages()} at the end`,
  };
}

function summary(result: FigureResult): string {
  if (!isMeasured(result)) return `${result.name}: not measured: ${result.notMeasured}`;
  return (
    `${result.name}: ours ${formatValue(result.ours)}, baseline ${formatValue(result.baseline)} ` +
    `${result.unit}, ratio ${formatRatio(result.ratio)} (${result.better} is better)`
  );
}

async function main(): Promise<number> {
  let options;
  let figures: Figure[];
  try {
    options = parseBenchArgs(process.argv.slice(2));
    figures = selectFigures(await loadFigures(), options.only);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    say(error.message);
    say(USAGE);
    return 2;
  }
  if (options.list) {
    for (const figure of figures)
      process.stdout.write(
        `${figure.name} (${figure.unit}, ${figure.better} is better): ${figure.description}\n`,
      );
    return 0;
  }
  if (figures.length === 0) {
    say(`no figures in ${FIGURES}`);
    return 2;
  }
  const stackDir = options.stack ?? join(ROOT, '.stack');
  const stack = figures.some((figure) => figure.needsStack)
    ? await localStack(stackDir)
    : undefined;
  const stackEnv = stack !== undefined && 'env' in stack ? stack.env : undefined;
  const work = await mkdtemp(join(tmpdir(), 'audit-bench-'));
  const date = new Date().toISOString();
  const started = Date.now();
  const loadAtStart = loadAverages();
  say(
    `${figures.length} figures, ${options.quick ? 'quick' : 'full'}, ${options.rounds} rounds` +
      (stack !== undefined && 'reason' in stack ? `; ${stack.reason}` : ''),
  );
  const results: FigureResult[] = [];
  try {
    for (const figure of figures) {
      if (figure.needsStack && stackEnv === undefined) {
        results.push({
          name: figure.name,
          unit: figure.unit,
          better: figure.better,
          description: figure.description,
          notMeasured: stack !== undefined && 'reason' in stack ? stack.reason : 'no local stack',
          failed: false,
        });
        say(summary(results[results.length - 1] as FigureResult));
        continue;
      }
      const figureWork = join(work, figure.name);
      await mkdir(figureWork, { recursive: true, mode: 0o700 });
      const ctx: BenchContext = {
        quick: options.quick,
        stack: stackEnv,
        work: figureWork,
        size: (full, quick) => (options.quick ? quick : full),
        log: (message) => say(`${figure.name}: ${message}`),
      };
      const figureStarted = Date.now();
      const result = await measureFigure(figure, ctx, options.rounds);
      results.push(result);
      say(`${summary(result)} [${((Date.now() - figureStarted) / 1000).toFixed(1)} s]`);
      await rm(figureWork, { recursive: true, force: true });
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const report = {
    date,
    mode: options.quick ? ('quick' as const) : ('full' as const),
    rounds: options.rounds,
    machine: machine(stackDir, loadAtStart),
    results,
  };
  const out = options.out ?? join(ROOT, 'bench');
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'RESULTS.md'), renderMarkdown(report));
  await writeFile(join(out, 'results.json'), renderJson(report));
  say(
    `wrote ${join(out, 'RESULTS.md')} and results.json in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  return results.some((result) => !isMeasured(result) && result.failed) ? 1 : 0;
}

process.exitCode = await main();
