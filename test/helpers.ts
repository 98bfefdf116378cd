import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { SpoolReader } from '../common/spool/spool-reader.js';
import { sourceRecord } from '../consumers/runtime/decode-record.js';
import type { SourceRecord } from '../consumers/runtime/record-source.js';
import type { AuditEventRecord } from '../schemas/event-record.js';
import { auditEventSchemas } from '../schemas/schema-set.js';
import { encodeSingleObject } from '../schemas/single-object.js';

/** A fresh folder, removed after the test. */
export async function tempDir(t: TestContext, name = 'audit-trail-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), name));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A valid record; `overrides` replace fields. */
export function record(overrides: Partial<AuditEventRecord> = {}): AuditEventRecord {
  return {
    id: '0190b6a2-7c3e-7d4a-9b1e-2f3a4b5c6d7e',
    timestamp: Date.UTC(2026, 10, 27, 12, 0, 0, 123),
    event_type: 'PackageInstall',
    package_name: 'left-pad',
    package_version: '1.3.0',
    user: 'admin',
    ip_address: '192.0.2.1',
    details: { registry: 'https://registry.npmjs.org' },
    success: true,
    error_message: null,
    source: 'ci-runner-01',
    ...overrides,
  };
}

/**
 * A fresh folder in memory (/dev/shm where there is one), for tests of
 * file-system stores whose many fsyncs would otherwise wait on the disk.
 */
export async function memoryTempDir(t: TestContext, name = 'audit-trail-test-'): Promise<string> {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dir = await mkdtemp(join(base, name));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** A record of `audit.events` as a source delivers it: `value` decoded and validated. */
export function logRecord(raw: {
  offset: number;
  timestamp: number;
  value: Buffer;
  partition?: number;
}): SourceRecord {
  return sourceRecord(auditEventSchemas(), {
    topic: 'audit.events',
    partition: raw.partition ?? 0,
    offset: raw.offset,
    timestamp: raw.timestamp,
    value: raw.value,
  });
}

/**
 * The event at `offset` of `audit.events` partition 0 as a source delivers
 * it: record() with an id made from the offset, at `t0 + offset` ms.
 */
export function eventAt(
  offset: number,
  t0: number,
  overrides: Partial<AuditEventRecord> = {},
): SourceRecord {
  const id = `0190b6a2-7c3e-7d4a-9b1e-${String(offset).padStart(12, '0')}`;
  return logRecord({
    offset,
    timestamp: t0 + offset,
    value: encodeSingleObject(auditEventSchemas(), record({ id, ...overrides })),
  });
}

/** Every record of the spool in `dir` from offset `from` on, its value as text, in small reads. */
export async function readSpool(
  dir: string,
  from = 0,
): Promise<{ offset: number; value: string }[]> {
  const reader = new SpoolReader(dir);
  const out: { offset: number; value: string }[] = [];
  for (let next = from; ;) {
    const batch = await reader.read(next, 333);
    if (batch.length === 0) return out;
    for (const r of batch) out.push({ offset: r.offset, value: r.value.toString() });
    next = (batch.at(-1)?.offset ?? next) + 1;
  }
}
