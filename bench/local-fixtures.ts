/**
 * What the local figures (bench/figures/local*.ts) share: simulated events,
 * an archive built by `audit-trail demo`, the events read back from it, the
 * bare renderings the baselines use, a byte counter standing in for
 * /dev/null, child processes of the CLI with an environment of their own,
 * and the peak RSS of a process. Not a figure module: the suite imports only
 * bench/figures/.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { stringify, type Stringifier } from 'csv-stringify';
import { InstallerSimulation } from '../cli/simulator.js';
import { ARCHIVER_DEFAULTS } from '../consumers/archiver/archiver.js';
import { readArchive } from '../consumers/exporter/archive-reader.js';
import { LocalDirStore } from '../consumers/object-store/local-dir-store.js';
import type { AuditEvent } from '../producer/audit-event.js';
import { EVENT_FIELDS, type AuditEventRecord } from '../schemas/event-record.js';

/** The CLI the child processes run. */
export const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/** The archive key prefix of `audit-trail demo` (the archiver's default). */
export const ARCHIVE_PREFIX = ARCHIVER_DEFAULTS.prefix;

/** Seconds since `start` (process.hrtime.bigint()). */
export function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** `count` events of the installer simulation, the same for the same seed. */
export function simulatedEvents(count: number, seed = 7): AuditEvent[] {
  const simulation = new InstallerSimulation(seed, Date.UTC(2026, 0, 1));
  return Array.from({ length: count }, () => simulation.next());
}

/** A writable that only counts what it is given, as /dev/null would take it. */
export class ByteCounter extends Writable {
  bytes = 0;

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    done();
  }

  override _writev(chunks: { chunk: Buffer | string }[], done: () => void): void {
    for (const { chunk } of chunks)
      this.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    done();
  }
}

/**
 * The environment of a child process of the CLI: the parent's without any
 * audit-trail or Kafka setting (a user's AUDIT_* must not reach the
 * measurement), plus `settings`.
 */
export function childEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env))
    if (!name.startsWith('AUDIT_') && !name.startsWith('KAFKA')) env[name] = value;
  return { ...env, AUDIT_LOG_LEVEL: 'warn', ...settings };
}

/** Runs `node args...` in `cwd` to its end; rejects with its stderr when it fails. */
export async function runNode(
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = childEnv({}),
): Promise<void> {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  if (code !== 0)
    throw new Error(
      `node ${args.join(' ')} ended with ${signal ?? `exit code ${code}`}: ${stderr.trim().slice(-500)}`,
    );
}

/** The archive folder of `audit-trail demo --events N` run in DIR (its objects of 10,000 events). */
export async function demoArchive(dir: string, events: number, seed = 1): Promise<string> {
  await runNode(
    [CLI, 'demo', '--events', String(events), '--seed', String(seed), '--out', dir],
    dir,
  );
  return join(dir, 'archive');
}

/** Every event of a local archive, in archive order, held in memory. */
export async function archivedRecords(archive: string): Promise<AuditEventRecord[]> {
  const records: AuditEventRecord[] = [];
  for await (const record of readArchive(new LocalDirStore(archive), { prefix: ARCHIVE_PREFIX }))
    records.push(record);
  return records;
}

/** Bytes of every file under `dir`. */
export async function folderBytes(dir: string): Promise<number> {
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile()) bytes += (await stat(join(entry.parentPath, entry.name))).size;
  return bytes;
}

/**
 * One event as a plain JSON logger writes it: the record with its timestamp
 * in ISO 8601, the fields in schema order. No formula guard, no checks.
 */
export function bareJson(record: AuditEventRecord): string {
  return JSON.stringify({ ...record, timestamp: new Date(record.timestamp).toISOString() });
}

/** The cells of one event for a bare CSV writer: details as JSON, nothing neutralised. */
export function bareCells(record: AuditEventRecord): string[] {
  return [
    record.id,
    new Date(record.timestamp).toISOString(),
    record.event_type,
    record.package_name ?? '',
    record.package_version ?? '',
    record.user ?? '',
    record.ip_address ?? '',
    JSON.stringify(record.details),
    record.success ? 'true' : 'false',
    record.error_message ?? '',
    record.source ?? '',
  ];
}

/** csv-stringify with the options of the export (header, CRLF, cells with a line break quoted). */
export function bareCsvStringifier(): Stringifier {
  return stringify({
    header: true,
    columns: [...EVENT_FIELDS],
    record_delimiter: 'windows',
    quoted_match: /[\r\n]/,
  });
}

/** Peak resident set (VmHWM) of a live process, in KiB; Linux only. */
export async function peakRssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  if (match?.[1] === undefined) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(match[1]);
}
