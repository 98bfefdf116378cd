/**
 * `verify`: checks the archive's digests and objects and prints a report. Exit
 * code 0 when nothing is wrong (pending objects are fine), 1 when any object is
 * modified, missing, reordered or not covered by a valid digest.
 */
import type { Logger } from 'pino';
import { verifyArchive } from '../../consumers/archiver/verify.js';
import { isoTime, parseOptions } from '../args.js';
import { cliSettings, effectiveEnv } from '../config.js';
import { verifyKey } from '../keys.js';
import { archiveStore } from '../store.js';

export async function verifyCommand(args: string[], _logger: Logger): Promise<number> {
  const o = parseOptions(args, {
    from: { type: 'string' },
    to: { type: 'string' },
    archive: { type: 'string' },
    config: { type: 'string' },
  });
  const settings = cliSettings(effectiveEnv(o.config));
  const report = await verifyArchive(archiveStore(settings, o.archive), {
    prefix: settings.prefix,
    publicKey: verifyKey(settings),
    from: isoTime('from', o.from),
    to: isoTime('to', o.to),
  });
  const lines = [
    `verified ${report.partitions} partitions: ${report.digests} digests, ${report.objects} objects, ${report.events} events`,
    ...report.problems.map((p) => `FAIL ${p.kind.padEnd(19)} ${p.key}: ${p.detail}`),
    ...report.pending.map(
      (key) =>
        `pending             ${key}: newer than the last digest (its interval is still open)`,
    ),
    report.problems.length === 0
      ? 'OK: no object modified, missing, reordered or uncovered'
      : `${report.problems.length} problems found`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return report.problems.length === 0 ? 0 : 1;
}
