/**
 * The demo: simulated installers -> AuditTrail (local spool) -> archiver ->
 * archive -> exporter -> audit-trail.json and audit-trail.csv. Every stage
 * streams, so memory does not grow with the number of events.
 */
import { rm, stat } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import { AuditError, AuditErrorCode } from '../../common/errors.js';
import { makePrivateFolder } from '../../common/atomic-file.js';
import { ARCHIVER_DEFAULTS } from '../../consumers/archiver/archiver.js';
import { spoolArchiver } from '../../consumers/archiver/spool-archiver.js';
import { readArchive } from '../../consumers/exporter/archive-reader.js';
import { exportToFile } from '../../schemas/write-export.js';
import { LocalDirStore } from '../../consumers/object-store/local-dir-store.js';
import { AuditTrail } from '../../producer/audit-trail.js';
import { AUDIT_EVENT_TYPES } from '../../schemas/event-type.js';
import { recordBatches, type RecordBatches } from '../../schemas/record-batches.js';
import { parseOptions, positiveInt } from '../args.js';
import { InstallerSimulation } from '../simulator.js';
import { DEMO_COMMAND } from '../command-specs.js';

/** The records, counted by event type as they are read. */
function counted(records: RecordBatches, counts: Map<string, number>): RecordBatches {
  return recordBatches(async function* () {
    for await (const batch of records.batches()) {
      for (const record of batch)
        counts.set(record.event_type, (counts.get(record.event_type) ?? 0) + 1);
      yield batch;
    }
  });
}

function seconds(since: bigint): string {
  return (Number(process.hrtime.bigint() - since) / 1e9).toFixed(2);
}

function megabytes(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}

/** How this command was started, so that the hint it prints can be pasted as it is. */
function invocation(): string {
  const script = process.argv[1] ?? '';
  return basename(script) === 'audit-trail'
    ? 'audit-trail'
    : `node ${relative(process.cwd(), script) || script}`;
}

export async function demoCommand(args: string[], logger: Logger): Promise<number> {
  const o = parseOptions(args, DEMO_COMMAND.options);
  const total = positiveInt('events', o.events, DEMO_COMMAND.options.events.fallback);
  const seed = positiveInt('seed', o.seed, DEMO_COMMAND.options.seed.fallback);
  const out = resolve(o.out ?? DEMO_COMMAND.options.out.fallback);
  const spoolDir = join(out, 'spool');
  const archiveDir = join(out, 'archive');
  await rm(spoolDir, { recursive: true, force: true });
  await rm(archiveDir, { recursive: true, force: true });
  await makePrivateFolder(out);

  const started = process.hrtime.bigint();
  const store = new LocalDirStore(archiveDir);
  const trail = new AuditTrail({ spoolDir, retainInMemory: false });
  const prefix = ARCHIVER_DEFAULTS.prefix;
  const archiver = spoolArchiver({ spoolDir, store, prefix, logger, pollMs: 20 });
  await archiver.start();

  // installers emit while the archiver drains the spool behind them
  const simulation = new InstallerSimulation(seed, Date.now() - total * 10);
  const emitted = new Map<string, number>();
  for (let i = 0; i < total; i++) {
    const event = simulation.next();
    trail.addEvent(event);
    emitted.set(event.eventType, (emitted.get(event.eventType) ?? 0) + 1);
    if (i % 2000 === 1999) await yieldToEventLoop();
  }
  await trail.close();
  const emittedIn = seconds(started);
  await archiver.catchUp(await archiver.backlog());
  const stats = await archiver.stop();
  if (archiver.failure !== undefined) throw archiver.failure;
  const archivedIn = seconds(started);

  const exportStarted = process.hrtime.bigint();
  const jsonPath = join(out, 'audit-trail.json');
  const csvPath = join(out, 'audit-trail.csv');
  const readBack = new Map<string, number>();
  await exportToFile(jsonPath, 'json', counted(readArchive(store, { prefix }), readBack));
  await exportToFile(csvPath, 'csv', readArchive(store, { prefix }));
  const exportedIn = seconds(exportStarted);

  const archivedTotal = [...readBack.values()].reduce((a, b) => a + b, 0);
  for (const type of AUDIT_EVENT_TYPES) {
    if ((readBack.get(type) ?? 0) !== (emitted.get(type) ?? 0)) {
      throw new AuditError(
        AuditErrorCode.ArchiveCorrupt,
        `the archive holds ${readBack.get(type) ?? 0} ${type} events, ${emitted.get(type) ?? 0} were emitted`,
      );
    }
  }

  const lines = [
    `audit-trail demo: ${total} events from simulated installers, embedded pipeline (no server)`,
    '',
    '  event type            count',
    ...AUDIT_EVENT_TYPES.map(
      (type) => `  ${type.padEnd(20)} ${String(readBack.get(type) ?? 0).padStart(7)}`,
    ),
    `  ${'total'.padEnd(20)} ${String(archivedTotal).padStart(7)}`,
    '',
    `  archived            ${stats.objects} objects in ${archiveDir}`,
    `  JSON                ${jsonPath} (${megabytes((await stat(jsonPath)).size)} MiB)`,
    `  CSV                 ${csvPath} (${megabytes((await stat(csvPath)).size)} MiB)`,
    `  time                emitted ${emittedIn} s, archived by ${archivedIn} s, exported in ${exportedIn} s, total ${seconds(started)} s`,
    `  peak memory (RSS)   ${megabytes(process.resourceUsage().maxRSS * 1024)} MiB`,
    '',
    `Export again with: ${invocation()} export --archive ${archiveDir} --format csv --package lodash`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
