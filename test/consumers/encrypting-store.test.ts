import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AuditErrorCode } from '../../common/errors.js';
import {
  EncryptingStore,
  parseEncryptionKey,
} from '../../consumers/object-store/encrypting-store.js';
import { LocalDirStore } from '../../consumers/object-store/local-dir-store.js';
import { tempDir } from '../helpers.js';
import { objectStoreConformance } from './object-store.conformance.js';

const key = randomBytes(32);

objectStoreConformance(
  'EncryptingStore over LocalDirStore',
  async (t) => new EncryptingStore(new LocalDirStore(await tempDir(t)), key),
);

test('stored bytes are ciphertext, deterministic for a retry, and refused when altered or read with another key', async (t) => {
  const root = await tempDir(t);
  const plain = new LocalDirStore(root);
  const store = new EncryptingStore(plain, key);
  const body = Buffer.from('{"user":"ada","package_name":"left-pad"}'.repeat(20));
  await store.put('a/object.avro', body);
  const stored = await plain.get('a/object.avro');
  assert.equal(stored.includes(Buffer.from('left-pad')), false, 'no plaintext on disk');
  await store.put('a/object.avro', body);
  assert.deepEqual(await plain.get('a/object.avro'), stored, 'a retried put writes the same bytes');
  assert.deepEqual(await store.get('a/object.avro'), body);

  await assert.rejects(new EncryptingStore(plain, randomBytes(32)).get('a/object.avro'), {
    code: AuditErrorCode.ArchiveCorrupt,
  });
  stored.writeUInt8(stored.readUInt8(40) ^ 1, 40);
  await plain.put('a/object.avro', stored);
  await assert.rejects(store.get('a/object.avro'), { code: AuditErrorCode.ArchiveCorrupt });
  // an object copied to another key does not decrypt there
  await plain.put('b/copy.avro', await plain.get('a/object.avro'));
  await assert.rejects(store.get('b/copy.avro'), { code: AuditErrorCode.ArchiveCorrupt });
});

test('keys are 256 bits in hex or base64; anything else names the setting', () => {
  assert.equal(parseEncryptionKey('K', key.toString('hex')).length, 32);
  assert.equal(parseEncryptionKey('K', key.toString('base64') + '\n').length, 32);
  assert.throws(() => parseEncryptionKey('K', 'short'), {
    code: AuditErrorCode.InvalidOption,
    field: 'K',
  });
});

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
