/**
 * `produce --from FILE.ndjson`: one event per line, fields named as in the
 * exports, UTF-8 (a leading byte order mark is dropped). Bad lines, including
 * lines that are not valid UTF-8, are reported on stderr, one line each with its
 * line number, and skipped; every good line is sent. Exit code 1 when any line
 * was rejected.
 */
import { createReadStream } from 'node:fs';
import type { Logger } from 'pino';
import { ValidationError } from '../../common/errors.js';
import { AuditEvent } from '../../producer/audit-event.js';
import { recordFromJson } from '../../producer/record-from-json.js';
import { parseOptions, positiveInt, UsageError } from '../args.js';
import { cliSettings, effectiveEnv } from '../config.js';
import { utf8Lines } from '../input-lines.js';
import { openTrail } from '../trail.js';

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
    for await (const line of utf8Lines(input as AsyncIterable<Buffer>)) {
      lineNumber = line.lineNumber;
      try {
        if ('error' in line) throw line.error;
        if (line.text.trim() === '') continue;
        trail.addEvent(AuditEvent.fromRecord(recordFromJson(JSON.parse(line.text))));
        accepted++;
      } catch (error) {
        // a bad line is skipped (each one reported); a failure of the spool or the broker stops the run
        if (!(error instanceof SyntaxError) && !(error instanceof ValidationError)) throw error;
        rejected++;
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
