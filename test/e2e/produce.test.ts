/**
 * `produce --from FILE`: input is decoded strictly, a leading BOM is accepted,
 * and every rejected line is reported.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers.js';

const MAIN = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

function run(args: string[]) {
  const result = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, AUDIT_LOG_LEVEL: 'warn' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const line = (user: string) =>
  Buffer.from(JSON.stringify({ event_type: 'IntegrityCheck', package_name: 'x', user }) + '\n');

test('produce: a leading BOM is accepted, invalid UTF-8 is refused naming the line, every bad line is reported', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'events.ndjson');
  const badUtf8 = Buffer.concat([
    Buffer.from('{"event_type":"IntegrityCheck","package_name":"x","user":"caf'),
    Buffer.from([0xe9]), // Latin-1 é: not UTF-8
    Buffer.from('"}\n'),
  ]);
  const manyBad = Array.from({ length: 30 }, () => Buffer.from('{"event_type":"Nope"}\n'));
  writeFileSync(
    file,
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), line('ada'), badUtf8, line('bob'), ...manyBad]),
  );
  const spool = join(dir, 'spool');
  const archive = join(dir, 'archive');
  const config = join(dir, 'config.env');
  writeFileSync(config, `AUDIT_SPOOL_DIR=${spool}\nAUDIT_ARCHIVE_DIR=${archive}\n`);
  const result = run(['produce', '--from', file, '--config', config]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout, /^2 events recorded in the spool .*; 31 lines rejected\n$/);
  const reported = result.stderr.trimEnd().split('\n');
  assert.equal(reported.length, 31, result.stderr);
  assert.match(reported[0] ?? '', /^audit-trail: line 2: .*not valid UTF-8/);
  assert.deepEqual(
    reported.slice(1).map((l) => /^audit-trail: line (\d+): /.exec(l)?.[1]),
    Array.from({ length: 30 }, (_, i) => String(i + 4)),
  );
  assert.equal(run(['archive', '--once', '--config', config]).code, 0);
  const exported = run(['export', '--format', 'json', '--config', config]);
  const users = (JSON.parse(exported.stdout) as { user: string }[]).map((e) => e.user);
  assert.deepEqual(users, ['ada', 'bob']);
});
