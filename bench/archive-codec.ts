/**
 * Which container codec the archive uses, measured: bytes per event and build
 * and read throughput of one archive object for each codec Avro defines that
 * Node.js has without native add-ons (null, deflate), against the JSON lines
 * of the same events as the baseline, all in the same run.
 *
 *   npm run build && node dist/bench/archive-codec.js [events per object]
 */
import { InstallerSimulation } from '../cli/simulator.js';
import { buildArchiveObject, CHAIN_START } from '../consumers/archiver/archive-object.js';
import { toExportObject } from '../schemas/render.js';
import { readContainerRecords, CONTAINER_CODECS } from '../schemas/container.js';
import { auditEventSchemas } from '../schemas/schema-set.js';

const count = Number(process.argv[2] ?? 10_000);
const rounds = 5;
const schemas = auditEventSchemas();
const simulation = new InstallerSimulation(11, Date.UTC(2026, 0, 1));
const records = Array.from({ length: count }, () => ({
  ...simulation.next().toRecord(),
  source: 'bench-host',
}));
const bodies = records.map((r) => schemas.reader.type.toBuffer(r));

function timed(run: () => void): number {
  let best = Infinity;
  for (let i = 0; i < rounds; i++) {
    const start = process.hrtime.bigint();
    run();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  }
  return best;
}

const jsonLines = records.map((r) => JSON.stringify(toExportObject(r)) + '\n').join('');
const jsonBytes = Buffer.byteLength(jsonLines);
const jsonSeconds = timed(
  () => void records.map((r) => JSON.stringify(toExportObject(r))).join('\n'),
);
const lines = [`one archive object of ${count} simulated events (best of ${rounds})`];
lines.push(
  `  baseline JSON lines: ${(jsonBytes / count).toFixed(1)} bytes/event, ${Math.round(count / jsonSeconds).toLocaleString('en-US')} events/s to render`,
);
for (const codec of CONTAINER_CODECS) {
  let bytes: Buffer = Buffer.alloc(0);
  const build = timed(() => {
    bytes = buildArchiveObject({
      topic: 't',
      partition: 0,
      firstOffset: 0,
      lastOffset: count - 1,
      bodies,
      writer: schemas.reader,
      codec,
      prevObjectSha256: CHAIN_START,
    }).bytes;
  });
  const read = timed(() => {
    let n = 0;
    for (const _ of readContainerRecords(bytes, schemas)) n++;
    if (n !== count) throw new Error('count mismatch');
  });
  lines.push(
    `  ${codec.padEnd(8)} ${(bytes.length / count).toFixed(1)} bytes/event (${((100 * bytes.length) / jsonBytes).toFixed(1)}% of JSON), ` +
      `build ${Math.round(count / build).toLocaleString('en-US')} events/s, read ${Math.round(count / read).toLocaleString('en-US')} events/s`,
  );
}
process.stdout.write(lines.join('\n') + '\n');
