/** Paths and process helpers shared by the services of the local stack. */
import { spawn, spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { readConfigFile } from '../../cli/config.js';

export const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const STACK = join(ROOT, '.stack');
export const CACHE = join(ROOT, '.cache', 'stack');
export const ENV_FILE = join(STACK, 'env');
export const POM = join(ROOT, 'scripts', 'stack', 'pom.xml');
export const LIB = { kafka: join(CACHE, 'lib', 'kafka'), s3proxy: join(CACHE, 'lib', 's3proxy') };

export function say(line: string): void {
  process.stdout.write(`stack: ${line}\n`);
}

export function fail(line: string): never {
  process.stderr.write(`stack: ${line}\n`);
  process.exit(1);
}

export function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error !== undefined) fail(`cannot run ${command}: ${result.error.message}`);
  if (result.status !== 0)
    fail(`${command} ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function runningPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

/** Ports handed out by this process, so that no two services get the same one. */
const handedOut = new Set<number>();
/**
 * Listening ports are picked below Linux's ephemeral range (32768-60999 by
 * default): a port from that range can be taken, between the pick and the
 * server's bind, as the local port of any outgoing connection on the machine.
 */
const PORT_RANGE = { low: 20000, high: 32000 } as const;

function bindable(port: number): Promise<boolean> {
  return new Promise((resolveBindable) => {
    const server = createServer();
    server.once('error', () => resolveBindable(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolveBindable(true)));
  });
}

/** A port on 127.0.0.1 that is free now and was not handed out before by this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_RANGE.low + randomInt(PORT_RANGE.high - PORT_RANGE.low);
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
  return fail(`no free port between ${PORT_RANGE.low} and ${PORT_RANGE.high} on 127.0.0.1`);
}

/** The last lines of a log file, for a failure message; empty when there is none. */
export function logTail(path: string, lines = 15): string {
  if (!existsSync(path)) return '';
  return readFileSync(path, 'utf8')
    .split('\n')
    .slice(-lines - 1)
    .join('\n');
}

/** The settings of the previous `up`, so that ports stay the same across restarts. */
export function previousEnv(): Record<string, string> {
  return existsSync(ENV_FILE) ? readConfigFile(ENV_FILE) : {};
}

/** Fetches the servers' jars from Maven Central once; again only when the pom changes. */
export function fetchJars(): void {
  const marker = join(CACHE, 'lib', '.complete');
  const pom = readFileSync(POM, 'utf8');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === pom) return;
  if (spawnSync('java', ['-version']).status !== 0) fail('java is needed (Java 17 or newer)');
  if (spawnSync('mvn', ['--version']).status !== 0)
    fail('mvn (Apache Maven) is needed to fetch the servers from Maven Central');
  say('fetching Apache Kafka and S3Proxy from Maven Central (once)');
  rmSync(join(CACHE, 'lib'), { recursive: true, force: true });
  run('mvn', [
    '-q',
    '-B',
    '-f',
    POM,
    `-Dstack.kafka.lib=${LIB.kafka}`,
    `-Dstack.s3proxy.lib=${LIB.s3proxy}`,
    'dependency:copy-dependencies@kafka',
    'dependency:copy-dependencies@s3proxy',
  ]);
  writeFileSync(marker, pom);
}

/** Starts a JVM in the background with its output in `logFile`; records its pid. */
export function startJava(args: string[], pidFile: string, logFile: string): number {
  const out = openSync(logFile, 'a');
  const child = spawn('java', args, { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  if (child.pid === undefined) fail('java did not start');
  writeFileSync(pidFile, String(child.pid));
  return child.pid;
}

export async function stopPid(name: string, pidFile: string): Promise<void> {
  const pid = runningPid(pidFile);
  if (pid === undefined) {
    say(`${name} is not running`);
    return;
  }
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(200);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(pidFile, { force: true });
  say(`${name} stopped (pid ${pid})`);
}
