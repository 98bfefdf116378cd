import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Spool } from '../../common/spool/spool.js';
import { SpoolSource } from '../../consumers/runtime/spool-source.js';
import assert from 'node:assert/strict';
import { AuditErrorCode } from '../../common/errors.js';
import { tempDir } from '../helpers.js';
import { recordSourceConformance } from './record-source.conformance.js';

recordSourceConformance('SpoolSource', async (t) => {
  const spoolDir = await mkdtemp(join(tmpdir(), 'audit-trail-spool-source-'));
  const spool = new Spool({ dir: spoolDir });
  // the spool is closed before its folder goes
  t.after(async () => {
    await spool.close();
    await rm(spoolDir, { recursive: true, force: true });
  });
  return {
    topic: 'audit.events',
    deliveryTimeoutMs: 5000,
    append: async (values) => {
      for (const value of values) spool.append(value);
      await spool.flush();
    },
    open: () => new SpoolSource({ spoolDir, pollMs: 20 }),
  };
});

test('SpoolSource refuses bad options, naming them', async (t) => {
  const spoolDir = await tempDir(t);
  for (const [options, field] of [
    [{ pollMs: 0 }, 'pollMs'],
    [{ readRecords: 1.5 }, 'readRecords'],
  ] as const)
    assert.throws(() => new SpoolSource({ spoolDir, ...options }), {
      code: AuditErrorCode.InvalidOption,
      field,
    });
});
