/**
 * The benchmark suite: every figure of dist/bench/figures/*.js (each module
 * exports `figures: Figure[]`), each measured against its baseline in this
 * run: setup, one warm-up run of each side, interleaved rounds (3 under
 * --quick, 5 otherwise), medians, ratio = ours / baseline. Figures that need
 * the local stack are reported as not measured, with the reason, when it is
 * not running. Writes bench/RESULTS.md and bench/results.json.
 *
 *   npm run bench [-- --quick] [-- --only name,name] [-- --rounds N] [-- --out DIR] [-- --list]
 *
 * Exits 1 when a figure failed (its error is in the results), 2 on a usage mistake.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { cpus, release, tmpdir, totalmem, type as osType } from 'node:os';
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

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIGURES = fileURLToPath(new URL('./figures/', import.meta.url));
const STACK = join(ROOT, '.stack');

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

function readEnvFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(line);
    if (match?.[1] !== undefined) env[match[1]] = (match[2] ?? '').trim();
  }
  return env;
}

function isAlive(pidFile: string): boolean {
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    // ESRCH: no such process (EPERM cannot happen for the stack this user started)
    return false;
  }
}

function reachable(hostPort: string): Promise<boolean> {
  const at = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, at);
  const port = Number(hostPort.slice(at + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2000 });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/** The local stack's settings, or why it cannot be used. */
async function localStack(): Promise<{ env: Record<string, string> } | { reason: string }> {
  const envFile = join(STACK, 'env');
  if (!existsSync(envFile))
    return { reason: 'the local stack is not running (no .stack/env): npm run stack:up' };
  const env = readEnvFile(envFile);
  if (!isAlive(join(STACK, 'kafka.pid')))
    return { reason: 'Kafka of the local stack is not running: npm run stack:up' };
  if (!isAlive(join(STACK, 's3proxy.pid')))
    return { reason: 'S3Proxy of the local stack is not running: npm run stack:up' };
  const broker = (env['KAFKA_BROKERS'] ?? '').split(',')[0] ?? '';
  if (broker === '' || !(await reachable(broker)))
    return {
      reason: `the local stack's broker ${broker || '(none in .stack/env)'} does not answer`,
    };
  const s3 = (env['S3_ENDPOINT'] ?? '').replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (s3 === '' || !(await reachable(s3)))
    return {
      reason: `the local stack's S3 endpoint ${s3 || '(none in .stack/env)'} does not answer`,
    };
  return { env };
}

/** The broker's version, from the kafka-server jar on the running broker's class path. */
function brokerVersion(): string {
  const pidFile = join(STACK, 'kafka.pid');
  if (!isAlive(pidFile)) return 'not running';
  try {
    const pid = readFileSync(pidFile, 'utf8').trim();
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const classPath = args[args.indexOf('-cp') + 1] ?? '';
    for (const entry of classPath.split(':')) {
      const dir = entry.replace(/\/\*$/, '');
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir)) {
        const match = /^kafka-server-(\d[\w.-]*)\.jar$/.exec(name);
        if (match?.[1] !== undefined) return `Apache Kafka ${match[1]} (KRaft, one node, loopback)`;
      }
    }
  } catch {
    // ENOENT/EACCES: /proc or the class path folder is unreadable
  }
  return 'unknown';
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

function machine(): Machine {
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
    broker: brokerVersion(),
    kcat:
      kcat.error !== undefined
        ? 'not installed'
        : kcatVersion === null
          ? 'unknown'
          : [kcatVersion[1], kcatVersion[2]].filter((part) => part !== undefined).join(', '),
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
  const stack = figures.some((figure) => figure.needsStack) ? await localStack() : undefined;
  const stackEnv = stack !== undefined && 'env' in stack ? stack.env : undefined;
  const work = await mkdtemp(join(tmpdir(), 'audit-bench-'));
  const date = new Date().toISOString();
  const started = Date.now();
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
    machine: machine(),
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
