/**
 * `verify`: checks the archive's digests and objects against the expected
 * partitions, the grace period and, with `--anchor FILE`, the anchor of the
 * previous run, and prints a report. Exit code 0 when nothing is wrong
 * (pending objects within the grace period are fine), 1 on any problem. After
 * a run without problems the anchor file is replaced by the newest digests.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { anchorFromReport, verifyArchive } from '../../consumers/archiver/verify.js';
import { isoTime, parseOptions, positiveInt } from '../args.js';
import { cliSettings, effectiveEnv } from '../config.js';
import { verifyKey } from '../keys.js';
import { archiveStore } from '../store.js';
import { expectedPartitions, readAnchor, writeAnchor } from '../verification.js';
import { VERIFY_COMMAND } from '../command-specs.js';

export async function verifyCommand(args: string[], logger: Logger): Promise<number> {
  const o = parseOptions(args, VERIFY_COMMAND.options);
  const settings = cliSettings(effectiveEnv(o.config));
  const partitionCount =
    o.partitions === undefined ? undefined : positiveInt('partitions', o.partitions, 1);
  const graceMs = positiveInt('grace', o.grace, settings.verifyGraceMs);
  const anchor = o.anchor === undefined ? undefined : readAnchor(o.anchor);
  const report = await verifyArchive(archiveStore(settings, o.archive), {
    prefix: settings.prefix,
    publicKey: verifyKey(settings),
    from: isoTime('from', o.from),
    to: isoTime('to', o.to),
    expected: await expectedPartitions(settings, logger, partitionCount),
    graceMs,
    anchor,
  });
  const latest = anchorFromReport(report);
  const lines = [
    `verified ${report.partitions} partitions: ${report.digests} digests, ${report.objects} objects, ${report.events} events`,
    ...(o.anchor !== undefined && anchor === undefined
      ? [`no anchor at ${o.anchor}: trust on first use`]
      : []),
    ...report.problems.map((p) => `FAIL ${p.kind.padEnd(19)} ${p.key}: ${p.detail}`),
    ...report.pending.map(
      (key) =>
        `pending             ${key}: newer than the last digest (its interval is still open)`,
    ),
    ...Object.entries(latest).map(
      ([id, entry]) =>
        `anchor ${id} ${entry.digest_key} signature-sha256:${createHash('sha256').update(entry.signature).digest('hex')}`,
    ),
    report.problems.length === 0
      ? 'OK: no object modified, missing, reordered or uncovered'
      : `${report.problems.length} problems found`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  if (report.problems.length > 0) return 1;
  if (o.anchor !== undefined) await writeAnchor(o.anchor, latest);
  return 0;
}
