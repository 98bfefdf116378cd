/**
 * Whether the local stack (scripts/stack.ts, settings in .stack/env) can be
 * used by the figures that need it, or why not; and the version of its broker.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

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
export async function localStack(
  stack: string,
): Promise<{ env: Record<string, string> } | { reason: string }> {
  const envFile = join(stack, 'env');
  if (!existsSync(envFile))
    return { reason: `the local stack is not running (no ${envFile}): npm run stack:up` };
  const env = readEnvFile(envFile);
  if (!isAlive(join(stack, 'kafka.pid')))
    return { reason: 'Kafka of the local stack is not running: npm run stack:up' };
  if (!isAlive(join(stack, 's3proxy.pid')))
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
export function brokerVersion(stack: string): string {
  const pidFile = join(stack, 'kafka.pid');
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
