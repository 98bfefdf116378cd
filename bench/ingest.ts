/**
 * Ingest benchmark: events per second and bytes per event on disk for the
 * durable AuditTrail (validate, Avro single-object encoding, CRC-framed spool,
 * fdatasync at the end) against a baseline measured in the same run: the same
 * events written as JSON lines through one buffered file stream, as a plain
 * JSON logger would (no validation, no checksums), then fsync'ed.
 *
 *   npm run build && node dist/bench/ingest.js [events]
 */
import { createWriteStream, statSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { InstallerSimulation } from '../cli/simulator.js';
import { AuditTrail } from '../producer/audit-trail.js';
import type { AuditEvent } from '../producer/audit-event.js';
import { toExportObject } from '../schemas/render.js';
import { listSegments, segmentFileName } from '../common/spool/segments.js';

const total = Number(process.argv[2] ?? 200_000);

function events(): AuditEvent[] {
  const simulation = new InstallerSimulation(7, Date.UTC(2026, 0, 1));
  return Array.from({ length: total }, () => simulation.next());
}

async function timed(run: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'audit-bench-'));
  try {
    const input = events();

    const spoolDir = join(dir, 'spool');
    const ours = await timed(async () => {
      const trail = new AuditTrail({ spoolDir, retainInMemory: false });
      for (const event of input) trail.addEvent(event);
      await trail.close();
    });
    const spoolBytes = listSegments(spoolDir).reduce(
      (sum, base) => sum + statSync(join(spoolDir, segmentFileName(base))).size,
      0,
    );

    const jsonPath = join(dir, 'baseline.ndjson');
    const baseline = await timed(async () => {
      const out = createWriteStream(jsonPath, { highWaterMark: 256 * 1024 });
      for (const event of input) {
        if (!out.write(JSON.stringify(toExportObject(event.toRecord())) + '\n'))
          await once(out, 'drain');
      }
      out.end();
      await once(out, 'finish');
      const handle = await open(jsonPath, 'r+');
      await handle.sync();
      await handle.close();
    });
    const jsonBytes = statSync(jsonPath).size;

    const rate = (seconds: number): string =>
      `${Math.round(total / seconds).toLocaleString('en-US')} events/s`;
    process.stdout.write(
      [
        `ingest of ${total} simulated events`,
        `  audit-trail spool (validate + Avro + CRC frames): ${rate(ours)}, ${(spoolBytes / total).toFixed(1)} bytes/event`,
        `  baseline JSON lines (no validation, no checksum): ${rate(baseline)}, ${(jsonBytes / total).toFixed(1)} bytes/event`,
        `  ratio (ours / baseline): speed ${(baseline / ours).toFixed(2)}x, size ${(spoolBytes / jsonBytes).toFixed(2)}x`,
        '',
      ].join('\n'),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
