/**
 * A command loads only what it runs: the help, `emit` and `produce` start
 * without the AWS SDK, and the help without a formatting library
 * (cli/commands.ts imports each command's code when it runs). Every module
 * the child process resolves is traced by a module hook.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tempDir } from '../helpers.js';

const MAIN = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
const AWS_SDK = '/node_modules/@aws-sdk/client-s3/';
const CSV = '/node_modules/csv-stringify/';

/** The URLs of the modules `audit-trail args` resolves, and its exit code. */
async function modulesLoadedBy(
  t: TestContext,
  args: string[],
): Promise<{ code: number | null; urls: string[] }> {
  const dir = await tempDir(t);
  const trace = join(dir, 'modules.txt');
  writeFileSync(trace, '');
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(${JSON.stringify(trace)}, resolved.url + '\\n');
  return resolved;
}
`,
  );
  writeFileSync(
    join(dir, 'register.mjs'),
    `import { register } from 'node:module';
register(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});
`,
  );
  const result = spawnSync(
    process.execPath,
    ['--import', pathToFileURL(join(dir, 'register.mjs')).href, MAIN, ...args],
    {
      encoding: 'utf8',
      env: { ...process.env, AUDIT_SPOOL_DIR: join(dir, 'spool'), AUDIT_LOG_LEVEL: 'warn' },
    },
  );
  return { code: result.status, urls: readFileSync(trace, 'utf8').split('\n').filter(Boolean) };
}

const loads = (urls: string[], part: string): boolean => urls.some((url) => url.includes(part));

for (const args of [['--help'], ['help', 'archive'], ['emit', '--help']]) {
  test(`audit-trail ${args.join(' ')} loads no command's code, no formatting library and not the AWS SDK`, async (t) => {
    const { code, urls } = await modulesLoadedBy(t, args);
    assert.equal(code, 0);
    assert.ok(loads(urls, '/cli/main.js'), 'the trace sees the modules of the command line');
    assert.ok(!loads(urls, '/cli/commands/'), urls.filter((u) => u.includes('/cli/')).join('\n'));
    assert.ok(!loads(urls, AWS_SDK));
    assert.ok(!loads(urls, CSV), urls.filter((u) => !u.includes('/node_modules/')).join('\n'));
  });
}

test('emit and produce load the producer and not the AWS SDK', async (t) => {
  // a usage error of the command itself: its code is loaded, then it stops before doing anything
  for (const args of [
    ['emit', '--type', 'NoSuchType'],
    ['produce', '--from', '/nonexistent/missing.ndjson'],
  ]) {
    const { code, urls } = await modulesLoadedBy(t, args);
    assert.equal(code, 2, args.join(' '));
    assert.ok(loads(urls, '/producer/audit-trail.js'), `${args[0]} loads the producer`);
    assert.ok(!loads(urls, AWS_SDK), `${args[0]} loads the AWS SDK`);
  }
});

test('a command that reads the archive does load the AWS SDK (the trace sees it)', async (t) => {
  const { code, urls } = await modulesLoadedBy(t, ['verify', '--no-such-option']);
  assert.equal(code, 2);
  assert.ok(loads(urls, AWS_SDK));
});
