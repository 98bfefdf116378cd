/** The command line over an encrypted archive: the encryption is invisible to archive, verify and export. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers.js';

test('the command line archives, verifies and exports an encrypted archive transparently', async (t) => {
  const dir = await tempDir(t);
  const main = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
  writeFileSync(join(dir, 'archive.key'), randomBytes(32).toString('base64'));
  const keys = spawnSync(process.execPath, [main, 'keys', 'generate', '--out', join(dir, 'keys')], {
    encoding: 'utf8',
  });
  assert.equal(keys.status, 0, keys.stderr);
  const env = {
    ...process.env,
    AUDIT_SPOOL_DIR: join(dir, 'spool'),
    AUDIT_ARCHIVE_DIR: join(dir, 'archive'),
    AUDIT_ENCRYPTION_KEY_FILE: join(dir, 'archive.key'),
    AUDIT_SIGNING_KEY_FILE: join(dir, 'keys', 'audit-signing.key'),
    AUDIT_VERIFY_KEY_FILE: join(dir, 'keys', 'audit-signing.pub'),
    AUDIT_BATCH_MAX_EVENTS: '2',
  };
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env });
  for (const name of ['left-pad', 'lodash', 'left-pad', 'react', 'left-pad']) {
    assert.equal(
      cli('emit', '--type', 'PackageInstall', '--package', name, '--version', '1.0.0').status,
      0,
    );
  }
  assert.match(cli('archive', '--once').stdout, /archived 5 events into 3 objects/);
  const verified = cli('verify');
  assert.equal(verified.status, 0, verified.stdout + verified.stderr);
  const exported = cli('export', '--format', 'json', '--package', 'left-pad');
  assert.equal((JSON.parse(exported.stdout) as unknown[]).length, 3);

  const partition = join(dir, 'archive', 'events');
  const objects = readdirSync(partition, { recursive: true, encoding: 'utf8' }).filter((f) =>
    f.endsWith('.avro'),
  );
  const victim = join(partition, objects[1] as string);
  const bytes = readFileSync(victim);
  assert.equal(bytes.subarray(0, 4).toString('latin1'), 'ATE1');
  bytes.writeUInt8(bytes.readUInt8(30) ^ 0xff, 30);
  writeFileSync(victim, bytes);
  const tampered = cli('verify');
  assert.equal(tampered.status, 1);
  assert.match(tampered.stdout, /FAIL modified +events\/.*fails AES-GCM authentication/);
});
