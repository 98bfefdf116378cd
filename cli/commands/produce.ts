/**
 * `produce --from FILE.ndjson`: one event per line, fields named as in the
 * exports. Bad lines are reported with their line number and skipped; every
 * good line is sent. Exit code 1 when any line was rejected.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { ValidationError } from '../../common/errors.js';
import { AuditEvent } from '../../producer/audit-event.js';
import { recordFromJson } from '../../producer/record-from-json.js';
import { parseOptions, positiveInt, UsageError } from '../args.js';
import { cliSettings, effectiveEnv } from '../config.js';
import { openTrail } from '../trail.js';

/** Reports of bad lines stop after this many; the count still covers them all. */
const MAX_REPORTED = 20;

export async function produceCommand(args: string[], logger: Logger): Promise<number> {
  const o = parseOptions(args, {
    from: { type: 'string' },
    wait: { type: 'string' },
    config: { type: 'string' },
  });
  if (o.from === undefined) throw new UsageError('--from FILE.ndjson is required (- for stdin)');
  const waitMs = positiveInt('wait', o.wait, 60_000);
  const settings = cliSettings(effectiveEnv(o.config));
  const input = o.from === '-' ? process.stdin : createReadStream(o.from);
  const opened = new Promise<void>((resolve, reject) => {
    if (o.from === '-') resolve();
    input.once('open', () => resolve());
    input.once('error', (error: Error) =>
      reject(new UsageError(`cannot read ${o.from}: ${error.message}`)),
    );
  });
  await opened;

  const trail = await openTrail(settings, logger);
  let accepted = 0;
  let rejected = 0;
  let lineNumber = 0;
  try {
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      lineNumber++;
      if (line.trim() === '') continue;
      try {
        trail.addEvent(AuditEvent.fromRecord(recordFromJson(JSON.parse(line))));
        accepted++;
      } catch (error) {
        // a bad line is skipped; a failure of the spool or the broker stops the run
        if (!(error instanceof SyntaxError) && !(error instanceof ValidationError)) throw error;
        rejected++;
        if (rejected <= MAX_REPORTED)
          process.stderr.write(`audit-trail: line ${lineNumber}: ${error.message}\n`);
      }
    }
  } finally {
    await trail.close({ timeoutMs: waitMs });
  }
  const where =
    settings.transport === 'kafka'
      ? `acknowledged by Kafka (topic ${settings.topics.eventsTopic})`
      : `recorded in the spool ${settings.spoolDir}`;
  process.stdout.write(`${accepted} events ${where}; ${rejected} lines rejected\n`);
  return rejected === 0 ? 0 : 1;
}
