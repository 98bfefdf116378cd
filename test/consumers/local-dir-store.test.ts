import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalDirStore } from '../../consumers/object-store/local-dir-store.js';
import { memoryTempDir, tempDir } from '../helpers.js';
import { objectStoreConformance } from './object-store.conformance.js';

objectStoreConformance('LocalDirStore', async (t) => new LocalDirStore(await memoryTempDir(t)));

test('LocalDirStore leaves no temporary files behind', async (t) => {
  const root = await tempDir(t);
  const store = new LocalDirStore(root);
  await Promise.all(
    Array.from({ length: 20 }, (_, i) => store.put('same/key', Buffer.from(String(i)))),
  );
  assert.deepEqual(readdirSync(join(root, 'same')), ['key']);
});
