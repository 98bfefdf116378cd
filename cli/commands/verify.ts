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
import { isoTime, parseOptions, positiveInt, CONFIG_OPTION, type CommandSpec } from '../args.js';
import { cliSettings, effectiveEnv } from '../config.js';
import { verifyKey } from '../keys.js';
import { archiveStore } from '../store.js';
import { expectedPartitions, readAnchor, writeAnchor } from '../verification.js';

export const VERIFY_COMMAND = {
  name: 'verify',
  summary: 'check digests and objects; name every object modified, missing or reordered',
  description: `Checks the archive (AUDIT_ARCHIVE_STORE): every digest's signature with
AUDIT_VERIFY_KEY_FILE and its link to the previous digest, the SHA-256 of every object a digest
lists, offset continuity and the hash chain between objects. Every key under the prefix must be
an archive object, a digest or a claim (else: foreign); the partitions must be those of the
events topic (read from Kafka with the kafka transport, partition 0 of the embedded pipeline, or
--partitions N), each with a valid digest that ended less than the grace period ago. Objects
newer than the last digest are reported as pending within the grace period and fail after it.

Prints a report naming every problem and an anchor line per partition; exits with 1 if there is
any problem.`,
  options: {
    from: {
      type: 'string',
      value: 'ISO',
      doc: 'only digests whose interval ends after this time',
    },
    to: {
      type: 'string',
      value: 'ISO',
      doc: 'only digests whose interval starts before this time',
    },
    archive: {
      type: 'string',
      value: 'DIR',
      doc: 'check this local folder, whatever the archive store',
    },
    partitions: {
      type: 'string',
      value: 'N',
      doc: 'the events topic has N partitions (instead of asking Kafka)',
    },
    grace: {
      type: 'string',
      value: 'MS',
      doc: 'how old the newest digest may be (default $AUDIT_VERIFY_GRACE_MS or two digest intervals and ten minutes)',
    },
    anchor: {
      type: 'string',
      value: 'FILE',
      doc: 'the newest digests of the previous run must still be in the chains (no rollback); after a run without problems FILE (mode 600) is replaced with the newest digests; an absent FILE is created (trust on first use)',
    },
    config: CONFIG_OPTION,
  },
} as const satisfies CommandSpec;

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
