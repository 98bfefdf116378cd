import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { AuditErrorCode } from '../../common/errors.js';
import {
  EncryptingStore,
  parseEncryptionKey,
} from '../../consumers/object-store/encrypting-store.js';
import { LocalDirStore } from '../../consumers/object-store/local-dir-store.js';
import { memoryTempDir, tempDir } from '../helpers.js';
import { objectStoreConformance } from './object-store.conformance.js';

const key = randomBytes(32);

objectStoreConformance(
  'EncryptingStore over LocalDirStore',
  async (t) => new EncryptingStore(new LocalDirStore(await memoryTempDir(t)), key),
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
