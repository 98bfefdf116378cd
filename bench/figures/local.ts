/**
 * Local figures measured in the suite's process, no stack needed: the cost of
 * `addEvent`, exports from an archive, and the archive's bytes per event,
 * each against a bare baseline over the same simulated events.
 */
import { once } from 'node:events';
import { mkdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { exportEvents } from '../../consumers/exporter/export-events.js';
import { LocalDirStore } from '../../consumers/object-store/local-dir-store.js';
import type { AuditEvent } from '../../producer/audit-event.js';
import { AuditTrail } from '../../producer/audit-trail.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { writeExport } from '../../schemas/write-export.js';
import type { BenchContext, Figure } from '../figure.js';
import {
  ARCHIVE_PREFIX,
  archivedRecords,
  bareCells,
  bareCsvStringifier,
  bareJson,
  ByteCounter,
  demoArchive,
  folderBytes,
  secondsSince,
  simulatedEvents,
} from '../local-fixtures.js';

/** Events per run of the addEvent figures. */
const addEventCount = (ctx: BenchContext): number => ctx.size(500_000, 200_000);
/** Events of the archive the export figures read. */
const exportCount = (ctx: BenchContext): number => ctx.size(200_000, 100_000);
/** Events of the archive bytes_per_event weighs (the same per event at any size past a few objects). */
const sizeCount = (ctx: BenchContext): number => ctx.size(200_000, 50_000);

/**
 * The baseline of both addEvent figures: avsc `toBuffer` of the records the
 * trail would encode (made beforehand, source filled), nothing else.
 */
function avscToBufferMicros(records: readonly AuditEventRecord[]): number {
  const type = auditEventSchemas().reader.type;
  const start = process.hrtime.bigint();
  let bytes = 0;
  for (const record of records) bytes += type.toBuffer(record).length;
  const seconds = secondsSince(start);
  if (bytes === 0) throw new Error('avsc encoded nothing');
  return (seconds * 1e6) / records.length;
}

function addEventFigure(spool: boolean): Figure {
  let events: AuditEvent[] = [];
  let records: AuditEventRecord[] = [];
  let run = 0;
  return {
    name: spool ? 'add_event_cost_spool' : 'add_event_cost_memory',
    unit: 'µs/event',
    better: 'lower',
    description: spool
      ? 'Microseconds per addEvent, in this process, events made beforehand. Ours: AuditTrail({ spoolDir, retainInMemory: false }).addEvent (toRecord, validation, Avro single-object encoding, a CRC-framed record into the spool write buffer), then close() (write and fdatasync), divided by the events. Baseline: avsc toBuffer of the same records, nothing else. 500,000 events (quick: 200,000).'
      : 'Microseconds per addEvent, in this process, events made beforehand. Ours: AuditTrail() in memory, the default (toRecord, validation, kept for exports and indexed by package; no encoding). Baseline: avsc toBuffer of the same records, nothing else. 500,000 events (quick: 200,000).',
    needsStack: false,
    async setup(ctx) {
      events = simulatedEvents(addEventCount(ctx));
      const source = hostname();
      records = events.map((event) => ({ ...event.toRecord(), source: event.source ?? source }));
    },
    async ours(ctx) {
      const spoolDir = join(ctx.work, `spool-${++run}`);
      const start = process.hrtime.bigint();
      const trail = spool ? new AuditTrail({ spoolDir, retainInMemory: false }) : new AuditTrail();
      for (const event of events) trail.addEvent(event);
      await trail.close();
      const seconds = secondsSince(start);
      if (trail.size !== events.length)
        throw new Error(`the trail took ${trail.size} of ${events.length} events`);
      if (spool) await rm(spoolDir, { recursive: true, force: true });
      return (seconds * 1e6) / events.length;
    },
    async baseline() {
      return avscToBufferMicros(records);
    },
    async teardown() {
      events = [];
      records = [];
    },
  };
}

/**
 * Rows per second of an export of an archive built by `audit-trail demo`: ours
 * is the path of `audit-trail export --archive DIR` (exportEvents: plan, read
 * each object, decode, filter; writeExport: render and stream) in this
 * process, into a byte counter; the baseline renders the same rows, held in
 * memory, with the bare renderer into a byte counter.
 */
function exportFigure(format: 'csv' | 'json'): Figure {
  let archive = '';
  let records: AuditEventRecord[] = [];
  const bytes = { ours: 0, baseline: 0 };
  return {
    name: `export_${format}_vs_bare`,
    unit: 'rows/s',
    better: 'higher',
    description:
      format === 'csv'
        ? 'Rows exported per second, in this process, into a byte counter, from a local archive built by audit-trail demo (deflate objects of 10,000 events). Ours: the path of audit-trail export --format csv (exportEvents: list, read, inflate and decode each object, no filter, no verify key; writeExport: cells with the formula guard, csv-stringify over runs of rows). Baseline: the same rows held in memory, cells made and written by csv-stringify with the same options (header, CRLF, quoted line breaks). 200,000 events (quick: 100,000).'
        : 'Rows exported per second, in this process, into a byte counter, from a local archive built by audit-trail demo (deflate objects of 10,000 events). Ours: the path of audit-trail export --format json (exportEvents: list, read, inflate and decode each object, no filter, no verify key; writeExport: one JSON array). Baseline: the same rows held in memory, JSON.stringify per row written to a stream as one array. 200,000 events (quick: 100,000).',
    needsStack: false,
    async setup(ctx) {
      const dir = join(ctx.work, 'demo');
      await mkdir(dir, { recursive: true });
      ctx.log(`building an archive of ${exportCount(ctx)} events (audit-trail demo)`);
      archive = await demoArchive(dir, exportCount(ctx));
      records = await archivedRecords(archive);
      if (records.length !== exportCount(ctx))
        throw new Error(`the archive holds ${records.length} events, not ${exportCount(ctx)}`);
    },
    async ours() {
      const sink = new ByteCounter();
      const start = process.hrtime.bigint();
      const run = exportEvents(new LocalDirStore(archive), { prefix: ARCHIVE_PREFIX, filter: {} });
      await writeExport(format, run.records, sink);
      const seconds = secondsSince(start);
      if (run.counts.eventsMatched !== records.length)
        throw new Error(`exported ${run.counts.eventsMatched} of ${records.length} events`);
      bytes.ours = sink.bytes;
      return records.length / seconds;
    },
    async baseline() {
      const sink = new ByteCounter();
      const start = process.hrtime.bigint();
      if (format === 'csv') {
        await pipeline(Readable.from(records.map(bareCells)), bareCsvStringifier(), sink);
      } else {
        let first = true;
        const write = async (text: string): Promise<void> => {
          if (!sink.write(text)) await once(sink, 'drain');
        };
        await write('[');
        for (const record of records) {
          await write((first ? '\n' : ',\n') + bareJson(record));
          first = false;
        }
        sink.end(first ? ']\n' : '\n]\n');
        await once(sink, 'finish');
      }
      const seconds = secondsSince(start);
      bytes.baseline = sink.bytes;
      return records.length / seconds;
    },
    async teardown(ctx) {
      // the same rows: a difference in bytes is the formula guard (CSV) or a difference in rendering
      if (bytes.ours > 0)
        ctx.log(`last runs wrote ${bytes.ours} bytes (ours) and ${bytes.baseline} (baseline)`);
      records = [];
    },
  };
}

/** Archive bytes per event (every file of the archive folder) against the same events as JSON lines. */
function bytesPerEventFigure(): Figure {
  let archive = '';
  let records: AuditEventRecord[] = [];
  return {
    name: 'bytes_per_event',
    unit: 'B/event',
    better: 'lower',
    description:
      'Bytes per event at rest. Ours: every file of the archive folder of audit-trail demo (Avro container objects of 10,000 events with deflate and their header summary, and the claims). Baseline: the same events as JSON lines (the export object of each, timestamp in ISO 8601). 200,000 events (quick: 50,000).',
    needsStack: false,
    async setup(ctx) {
      const dir = join(ctx.work, 'demo');
      await mkdir(dir, { recursive: true });
      ctx.log(`building an archive of ${sizeCount(ctx)} events (audit-trail demo)`);
      archive = await demoArchive(dir, sizeCount(ctx));
      records = await archivedRecords(archive);
    },
    async ours() {
      return (await folderBytes(archive)) / records.length;
    },
    async baseline() {
      let bytes = 0;
      for (const record of records) bytes += Buffer.byteLength(bareJson(record)) + 1;
      return bytes / records.length;
    },
    async teardown() {
      records = [];
    },
  };
}

export const figures: Figure[] = [
  addEventFigure(false),
  addEventFigure(true),
  exportFigure('csv'),
  exportFigure('json'),
  bytesPerEventFigure(),
];
