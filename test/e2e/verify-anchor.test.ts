import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers.js';

const MAIN = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

/** The embedded pipeline with signing keys: two runs of emit + archive, so two digests. */
async function pipeline(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const keys = spawnSync(process.execPath, [MAIN, 'keys', 'generate', '--out', join(dir, 'keys')], {
    encoding: 'utf8',
  });
  assert.equal(keys.status, 0, keys.stderr);
  const env = {
    ...process.env,
    AUDIT_LOG_LEVEL: 'warn',
    AUDIT_SPOOL_DIR: join(dir, 'spool'),
    AUDIT_ARCHIVE_DIR: join(dir, 'archive'),
    AUDIT_SIGNING_KEY_FILE: join(dir, 'keys', 'audit-signing.key'),
    AUDIT_VERIFY_KEY_FILE: join(dir, 'keys', 'audit-signing.pub'),
    AUDIT_BATCH_MAX_EVENTS: '2',
  };
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env });
  const round = (names: string[]): void => {
    for (const name of names)
      assert.equal(cli('emit', '--type', 'PackageInstall', '--package', name).status, 0);
    assert.equal(cli('archive', '--once').status, 0);
  };
  return { dir, cli, round };
}

const files = (dir: string, suffix: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith(suffix))
    .sort();

test('verify --anchor: trust on first use writes a 0600 anchor; a later rollback of the archive fails', async (t) => {
  const { dir, cli, round } = await pipeline(t);
  round(['left-pad', 'lodash', 'react']);
  const anchor = join(dir, 'verify.anchor');
  const first = cli('verify', '--anchor', anchor);
  assert.equal(first.status, 0, first.stdout + first.stderr);
  assert.match(first.stdout, /no anchor at .*: trust on first use/);
  assert.match(
    first.stdout,
    /^anchor audit\.events\/0 events\/_digests\/.* signature-sha256:[0-9a-f]{64}$/m,
  );
  assert.equal(statSync(anchor).mode & 0o777, 0o600);

  round(['express', 'chalk']);
  const second = cli('verify', '--anchor', anchor);
  assert.equal(second.status, 0, second.stdout + second.stderr);

  // the attacker deletes the newest digest and the objects it listed: the archive of before
  const archive = join(dir, 'archive');
  rmSync(join(archive, files(archive, '.json').at(-1) as string));
  for (const object of files(archive, '.avro').slice(-1)) rmSync(join(archive, object));
  const plain = cli('verify');
  assert.equal(plain.status, 0, 'without the anchor the shorter archive looks whole');
  const anchored = cli('verify', '--anchor', anchor);
  assert.equal(anchored.status, 1, anchored.stdout);
  assert.match(anchored.stdout, /FAIL anchor-mismatch/);
});

test('export with a verify key checks each object it reads: failures are reported (exit 1), --require-verified refuses naming the object', async (t) => {
  const { dir, cli, round } = await pipeline(t);
  round(['left-pad', 'lodash', 'react']);
  const clean = cli('export', '--format', 'ndjson', '--require-verified');
  assert.equal(clean.status, 0, clean.stderr);
  assert.equal(clean.stdout.trimEnd().split('\n').length, 3);
  assert.match(clean.stderr, /read 2; events 3; verified OK \(2 objects\)/);
  const archive = join(dir, 'archive');
  // the digest that lists the objects is gone: nothing vouches for them any more
  rmSync(join(archive, files(archive, '.json')[0] as string));
  const first = files(archive, '.avro')[0] as string;
  const reported = cli('export', '--format', 'ndjson');
  assert.equal(reported.status, 1);
  assert.equal(
    reported.stdout.trimEnd().split('\n').length,
    3,
    'exported, with the failure reported',
  );
  assert.match(
    reported.stderr,
    /verification failed: .*\.avro \(partition audit\.events\/0 has no digest\)/,
  );
  const out = join(dir, 'refused.ndjson');
  const refused = cli('export', '--format', 'ndjson', '--require-verified', '--out', out);
  assert.equal(refused.status, 1);
  assert.match(
    refused.stderr,
    new RegExp(`VERIFY_FAILED: archive object ${first} does not verify`),
  );
  assert.throws(() => statSync(out), 'nothing written');
});
