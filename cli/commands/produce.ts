/**
 * `produce --from FILE.ndjson`: one event per line, fields named as in the
 * exports, UTF-8 (a leading byte order mark is dropped). Bad lines, including
 * lines that are not valid UTF-8, are reported on stderr, one line each with its
 * line number, and skipped; every good line is sent. Exit code 1 when any line
 * was rejected.
 *
 * A failure of the spool or the broker (a full disk, say) stops the run at
 * that line: the events of the lines before it are recorded (an event whose
 * addEvent failed never is), and the summary names the line to go on from
 * with `--start-line`, so that a re-run resumes instead of duplicating.
 */
import { createReadStream } from 'node:fs';
import type { Logger } from 'pino';
import { AuditError, ValidationError } from '../../common/errors.js';
import { recordShapeFromJson } from '../../schemas/record-from-json.js';
import { parseOptions, positiveInt, UsageError } from '../args.js';
import { cliSettings, effectiveEnv } from '../config.js';
import { utf8Lines } from '../input-lines.js';
import { openTrail } from '../trail.js';
import { PRODUCE_COMMAND } from '../command-specs.js';

export async function produceCommand(args: string[], logger: Logger): Promise<number> {
  const o = parseOptions(args, PRODUCE_COMMAND.options);
  const startLine = positiveInt(
    'start-line',
    o['start-line'],
    PRODUCE_COMMAND.options['start-line'].fallback,
  );
  if (o.from === undefined) throw new UsageError('--from FILE.ndjson is required (- for stdin)');
  const waitMs = positiveInt('wait', o.wait, PRODUCE_COMMAND.options.wait.fallback);
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
  /** Line numbers of the latest accepted events: where to go on when some were not written. */
  const recentLines = new Uint32Array(RECENT_LINES);
  let stopped: { line: number; error: Error } | undefined;
  for await (const line of utf8Lines(input as AsyncIterable<Buffer>)) {
    if (line.lineNumber < startLine) continue;
    try {
      if ('error' in line) throw line.error;
      if (line.text.trim() === '') continue;
      // validated once, by the trail
      trail.addRecord(recordShapeFromJson(JSON.parse(line.text)));
      recentLines[accepted % RECENT_LINES] = line.lineNumber;
      accepted++;
    } catch (error) {
      if (error instanceof SyntaxError || error instanceof ValidationError) {
        // a bad line is skipped, each one reported
        rejected++;
        process.stderr.write(`audit-trail: line ${line.lineNumber}: ${error.message}\n`);
        continue;
      }
      // a failure of the spool or the broker stops the run; this line's event was not recorded
      stopped = { line: line.lineNumber, error: error as Error };
      break;
    }
  }
  let closeError: AuditError | undefined;
  try {
    await trail.close({ timeoutMs: waitMs });
  } catch (error) {
    if (!(error instanceof AuditError)) throw error;
    closeError = error;
  }
  // a broker that did not acknowledge in time leaves the events in the spool: recorded, sent later
  const unwritten = closeError === undefined ? 0 : trail.unwrittenEvents;
  const recorded = accepted - unwritten;
  const where =
    settings.transport === 'kafka' && closeError === undefined
      ? `acknowledged by Kafka (topic ${settings.topics.eventsTopic})`
      : `recorded in the spool ${settings.spoolDir}`;
  if (stopped === undefined && unwritten === 0) {
    process.stdout.write(`${accepted} events ${where}; ${rejected} lines rejected\n`);
    if (closeError !== undefined) throw closeError;
    return rejected === 0 ? 0 : 1;
  }
  // the first line whose event is not recorded: the oldest unwritten one, else the line that stopped the run
  const goOn =
    unwritten > 0 && unwritten <= RECENT_LINES
      ? (recentLines[recorded % RECENT_LINES] as number)
      : (stopped?.line ?? startLine);
  const cause = (unwritten > 0 ? closeError : stopped?.error) as Error;
  process.stdout.write(
    `${recorded} events ${where}; ${rejected} lines rejected; stopped at line ${goOn} ` +
      `(${describe(cause)}): go on with --start-line ${goOn}\n`,
  );
  return 1;
}

/** More than a spool write buffer can hold (256 KiB of events of at least ~60 bytes). */
const RECENT_LINES = 65_536;

function describe(error: Error): string {
  return error instanceof AuditError ? `${error.code}: ${error.message}` : error.message;
}
