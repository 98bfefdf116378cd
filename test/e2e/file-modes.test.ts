/**
 * Audit data and keys are readable by their owner only, whatever the umask:
 * spool folders and segments, the shipper's checkpoint, archive objects and
 * claims in the local store, exports, signing keys.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lstatSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeFileAtomically } from '../../common/atomic-file.js';
import { LocalDirStore } from '../../consumers/object-store/local-dir-store.js';
import { exportToFile } from '../../schemas/write-export.js';
import { AuditEvent } from '../../producer/audit-event.js';
import { AuditTrail } from '../../producer/audit-trail.js';
import { AuditEventType } from '../../schemas/event-type.js';
import { record, tempDir } from '../helpers.js';
import { writeFile } from 'node:fs/promises';

const MAIN = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

/** Every file and folder under `dir` (recursively), with its permission bits. */
function modes(dir: string): [string, number][] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((name) => [
    name,
    statSync(join(dir, name)).mode & 0o777,
  ]);
}

for (const umask of [0o022, 0o000]) {
  test(`audit data is created 0600/0700 under umask ${umask.toString(8).padStart(3, '0')}`, async (t) => {
    const previous = process.umask(umask);
    t.after(() => process.umask(previous));
    const dir = await tempDir(t);

    const trail = new AuditTrail({ spoolDir: join(dir, 'spool') });
    trail.addEvent(new AuditEvent(AuditEventType.PackageInstall).withPackageName('left-pad'));
    await trail.close();
    await writeFileAtomically(join(dir, 'spool', 'SHIPPED'), (temp) => writeFile(temp, '1\n'));

    const store = new LocalDirStore(join(dir, 'archive'));
    await store.put('events/dt=2026-01-01/hour=00/t/0/object.avro', Buffer.from('x'));
    await store.putIfAbsent('events/_claims/t/0/00000000000000000000', Buffer.from('{}'));
    await exportToFile(join(dir, 'export.json'), 'json', [record()]);

    const found = [
      ...modes(join(dir, 'spool')),
      ...modes(join(dir, 'archive')),
      ['export.json', statSync(join(dir, 'export.json')).mode & 0o777] as [string, number],
      ['spool/', statSync(join(dir, 'spool')).mode & 0o777] as [string, number],
      ['archive/', statSync(join(dir, 'archive')).mode & 0o777] as [string, number],
    ];
    assert.ok(found.length >= 8, found.map(([n]) => n).join(', '));
    for (const [name, mode] of found)
      assert.equal(mode & 0o077, 0, `${name} is ${mode.toString(8)}: others may read it`);
  });
}

test('the demo creates its output folder and everything in it for its owner only under umask 022', async (t) => {
  const previous = process.umask(0o022);
  t.after(() => process.umask(previous));
  const out = join(await tempDir(t), 'audit-demo');
  const result = spawnSync(process.execPath, [MAIN, 'demo', '--events', '50', '--out', out], {
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stderr);
  const found: [string, number][] = [['audit-demo/', statSync(out).mode & 0o777], ...modes(out)];
  assert.ok(found.length >= 5, found.map(([n]) => n).join(', '));
  for (const [name, mode] of found)
    assert.equal(mode & 0o077, 0, `${name} is ${mode.toString(8)}: others may read it`);
});

test('keys generate --force over a 0644 key leaves a 0600 key; a symlink at the key path is replaced, not followed', async (t) => {
  const dir = await tempDir(t);
  const out = join(dir, 'keys');
  const generate = (...extra: string[]) =>
    spawnSync(process.execPath, [MAIN, 'keys', 'generate', '--out', out, ...extra], {
      encoding: 'utf8',
    });
  assert.equal(generate().status, 0);
  const privatePath = join(out, 'audit-signing.key');
  spawnSync('chmod', ['644', privatePath]);
  const again = generate('--force');
  assert.equal(again.status, 0, again.stderr);
  assert.equal(statSync(privatePath).mode & 0o777, 0o600);
  assert.equal(statSync(out).mode & 0o077, 0, 'the key folder is the owner’s only');

  const target = join(dir, 'elsewhere.pem');
  const linked = join(dir, 'linked');
  const linkedKey = join(linked, 'audit-signing.key');
  assert.equal(spawnSync(process.execPath, [MAIN, 'keys', 'generate', '--out', linked]).status, 0);
  spawnSync('rm', [linkedKey]);
  symlinkSync(target, linkedKey); // dangling
  const refused = spawnSync(process.execPath, [MAIN, 'keys', 'generate', '--out', linked], {
    encoding: 'utf8',
  });
  assert.equal(
    refused.status,
    2,
    'an existing path, even a dangling link, is not replaced without --force',
  );
  const forced = spawnSync(
    process.execPath,
    [MAIN, 'keys', 'generate', '--out', linked, '--force'],
    { encoding: 'utf8' },
  );
  assert.equal(forced.status, 0, forced.stderr);
  assert.ok(!lstatSync(linkedKey).isSymbolicLink(), 'the link itself was replaced');
  assert.throws(() => statSync(target), /ENOENT/, 'nothing was written through the link');
  writeFileSync(join(dir, 'done'), '');
});
