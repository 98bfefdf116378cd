/**
 * The baseline of the demo_1m figure, run as its own process as the demo is:
 * N events of the same installer simulation written as JSON lines through one
 * buffered file stream and fsync'ed (a plain JSON logger: no validation, no
 * checksums, no archive), then read back and rendered twice with the bare
 * renderers, as the demo renders its archive: DIR/audit-trail.json (one array,
 * JSON.stringify per row) and DIR/audit-trail.csv (csv-stringify with the
 * export's options).
 *
 *   node dist/bench/demo-baseline.js N DIR [SEED]
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { open } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { InstallerSimulation } from '../cli/simulator.js';
import type { AuditEventRecord } from '../schemas/event-record.js';
import { bareCells, bareCsvStringifier, bareJson } from './local-fixtures.js';

async function write(out: Writable, chunk: string | string[]): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain');
}

async function end(out: Writable): Promise<void> {
  out.end();
  await once(out, 'finish');
}

/** The events of the JSON lines file, parsed one line at a time. */
async function* readLines(path: string): AsyncGenerator<AuditEventRecord> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) {
    const object = JSON.parse(line) as Omit<AuditEventRecord, 'timestamp'> & { timestamp: string };
    yield { ...object, timestamp: Date.parse(object.timestamp) };
  }
}

async function main(): Promise<void> {
  const [count, dir, seed] = [Number(process.argv[2]), process.argv[3], process.argv[4] ?? '1'];
  if (!Number.isInteger(count) || count <= 0 || dir === undefined)
    throw new RangeError('usage: node dist/bench/demo-baseline.js N DIR [SEED]');
  const source = hostname();
  const simulation = new InstallerSimulation(Number(seed), Date.now() - count * 10);

  const linesPath = join(dir, 'events.ndjson');
  const lines = createWriteStream(linesPath, { highWaterMark: 256 * 1024 });
  for (let i = 0; i < count; i++) {
    const record = simulation.next().toRecord();
    record.source ??= source;
    await write(lines, bareJson(record) + '\n');
  }
  await end(lines);
  const handle = await open(linesPath, 'r+');
  await handle.sync();
  await handle.close();

  const json = createWriteStream(join(dir, 'audit-trail.json'), { highWaterMark: 256 * 1024 });
  let first = true;
  await write(json, '[');
  for await (const record of readLines(linesPath)) {
    await write(json, (first ? '\n' : ',\n') + bareJson(record));
    first = false;
  }
  json.write(first ? ']\n' : '\n]\n');
  await end(json);

  const csv = bareCsvStringifier();
  const csvFile = createWriteStream(join(dir, 'audit-trail.csv'), { highWaterMark: 256 * 1024 });
  csv.pipe(csvFile);
  for await (const record of readLines(linesPath)) await write(csv, bareCells(record));
  await end(csv);
  await once(csvFile, 'finish');
}

await main();
