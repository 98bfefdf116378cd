/**
 * The command line against a Kafka broker that is not there (a closed port):
 * every command that talks to Kafka fails within its time limit with one line
 * that names the code and the broker, exits 1, and prints no stack trace.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers.js';

const MAIN = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
const CLOSED = '127.0.0.1:1';

interface Run {
  code: number | null;
  stderr: string;
  elapsedMs: number;
}

function run(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  const started = Date.now();
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd,
    env: {
      ...process.env,
      AUDIT_TRANSPORT: 'kafka',
      KAFKA_BROKERS: CLOSED,
      KAFKA_CONNECTION_TIMEOUT_MS: '500',
      KAFKA_REQUEST_TIMEOUT_MS: '1000',
      AUDIT_SPOOL_DIR: join(cwd, 'spool'),
      AUDIT_ARCHIVE_DIR: join(cwd, 'archive'),
      AUDIT_LOG_LEVEL: 'warn',
      ...env,
    },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.resume();
  return new Promise((resolve) =>
    child.on('close', (code) => resolve({ code, stderr, elapsedMs: Date.now() - started })),
  );
}

function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1) ?? '';
}

const COMMANDS: { name: string; args: string[]; limitMs: number; operation: RegExp }[] = [
  {
    name: 'emit',
    args: ['emit', '--type', 'IntegrityCheck', '--package', 'left-pad', '--wait', '3000'],
    limitMs: 3000 + 4000,
    operation: /\(produce to audit\.events\)/,
  },
  {
    name: 'produce',
    args: ['produce', '--from', 'events.ndjson', '--wait', '3000'],
    limitMs: 3000 + 4000,
    operation: /\(produce to audit\.events\)/,
  },
  {
    name: 'archive',
    args: ['archive', '--once'],
    limitMs: 6000,
    operation: /\(read the metadata of audit\.events, group audit-archiver\)/,
  },
  {
    name: 'topics ensure',
    args: ['topics', 'ensure'],
    limitMs: 6000,
    operation: /\(ensure topics\)/,
  },
];

for (const command of COMMANDS) {
  test(`${command.name} with the broker unreachable: one coded line naming the broker, exit 1`, async (t) => {
    const dir = await tempDir(t);
    writeFileSync(
      join(dir, 'events.ndjson'),
      `${JSON.stringify({ event_type: 'IntegrityCheck', package_name: 'left-pad' })}\n`,
    );
    const result = await run(command.args, dir);
    assert.equal(result.code, 1, result.stderr);
    const line = lastLine(result.stderr);
    assert.match(line, /^audit-trail: UNAVAILABLE: cannot reach Kafka broker 127\.0\.0\.1:1 /);
    assert.match(line, command.operation);
    assert.ok(
      result.elapsedMs < command.limitMs,
      `failed after ${result.elapsedMs} ms, limit ${command.limitMs}`,
    );
    assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
    assert.doesNotMatch(result.stderr, /unexpected error/);
  });
}

test('log lines are short text when asked (as on a terminal), JSON otherwise', async (t) => {
  const dir = await tempDir(t);
  const args = ['emit', '--type', 'IntegrityCheck', '--wait', '1500'];
  const text = await run(args, dir, { AUDIT_LOG_FORMAT: 'text' });
  assert.equal(text.code, 1, text.stderr);
  const lines = text.stderr.trimEnd().split('\n');
  assert.match(
    lines[0] ?? '',
    /^\d\d:\d\d:\d\d\.\d{3} WARN +cannot ship to Kafka, will retry topic=audit\.events .*err="cannot reach Kafka broker 127\.0\.0\.1:1/,
  );
  assert.ok(
    lines.every((line) => !line.startsWith('{')),
    text.stderr,
  );

  const json = await run(args, dir, { AUDIT_LOG_FORMAT: 'auto' }); // stderr is a pipe here
  assert.equal(json.code, 1, json.stderr);
  const first = JSON.parse(json.stderr.split('\n')[0] ?? '') as { msg: string; level: number };
  assert.equal(first.msg, 'cannot ship to Kafka, will retry');
  assert.equal(first.level, 40);
});
