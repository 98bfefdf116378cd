/**
 * What passes between the client figures (bench/figures/clients.ts) and the
 * child process of each client's side (bench/clients/*-side.ts): the messages
 * to produce, as one file written before the clock starts, and the one line a
 * side prints when it is done. Pure, tested in test/bench/clients-wire.test.ts.
 */
import type { BenchMessage } from '../kafka/events.js';

/** A message as a side sends it: the bytes of the project's producer (key, Avro value, headers). */
export type WireMessage = Pick<BenchMessage, 'key' | 'value' | 'headers'>;

function lengthPrefixed(bytes: Buffer): Buffer[] {
  const length = Buffer.allocUnsafe(4);
  length.writeUInt32BE(bytes.length);
  return [length, bytes];
}

/**
 * The messages as one buffer: a 4-byte big-endian count, then for each message
 * its key, its value and its headers as one JSON object, each a 4-byte length
 * followed by the bytes.
 */
export function encodeMessages(messages: readonly WireMessage[]): Buffer {
  const parts: Buffer[] = [Buffer.alloc(4)];
  parts[0]?.writeUInt32BE(messages.length);
  for (const { key, value, headers } of messages)
    parts.push(
      ...lengthPrefixed(Buffer.from(key)),
      ...lengthPrefixed(value),
      ...lengthPrefixed(Buffer.from(JSON.stringify(headers))),
    );
  return Buffer.concat(parts);
}

/** The messages of `encodeMessages`; throws a RangeError on a truncated or overlong buffer. */
export function decodeMessages(data: Buffer): WireMessage[] {
  let at = 0;
  const take = (): Buffer => {
    if (at + 4 > data.length) throw new RangeError(`messages file truncated at byte ${at}`);
    const length = data.readUInt32BE(at);
    if (at + 4 + length > data.length)
      throw new RangeError(`messages file truncated at byte ${at}`);
    at += 4 + length;
    return data.subarray(at - length, at);
  };
  if (data.length < 4) throw new RangeError('messages file truncated at byte 0');
  const count = data.readUInt32BE(0);
  at = 4;
  const messages: WireMessage[] = [];
  for (let i = 0; i < count; i++) {
    const key = take().toString('utf8');
    const value = take();
    const headers = JSON.parse(take().toString('utf8')) as Record<string, string>;
    messages.push({ key, value, headers });
  }
  if (at !== data.length)
    throw new RangeError(`messages file has ${data.length - at} bytes after ${count} messages`);
  return messages;
}

/** What a side reports on its last line of stdout. */
export interface SideReport {
  /** Events acknowledged (produce) or written to S3 and committed (consume). */
  events: number;
  /** From before connecting to the last acknowledgement or commit, measured by the side. */
  seconds: number;
  /** Objects written (consume); 0 for produce. */
  objects: number;
  /** The client's name and version, e.g. `@platformatic/kafka 2.12.1`. */
  client: string;
  /** The Node.js version of the side, e.g. `v24.22.3`. */
  node: string;
}

const REPORT_TAG = 'bench-side-report ';

export function formatSideReport(report: SideReport): string {
  return `${REPORT_TAG}${JSON.stringify(report)}\n`;
}

/** The report in a side's stdout (its last tagged line); throws naming what is wrong. */
export function parseSideReport(stdout: string): SideReport {
  const line = stdout
    .split('\n')
    .reverse()
    .find((text) => text.startsWith(REPORT_TAG));
  if (line === undefined)
    throw new Error(`the side printed no report: ${stdout.trim().slice(-500)}`);
  const parsed = JSON.parse(line.slice(REPORT_TAG.length)) as Partial<
    Record<keyof SideReport, unknown>
  >;
  for (const field of ['events', 'seconds', 'objects'] as const) {
    const value = parsed[field];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw new Error(`the side's report has no valid ${field}: ${line}`);
  }
  if ((parsed.seconds as number) <= 0)
    throw new Error(`the side's report has no valid seconds: ${line}`);
  for (const field of ['client', 'node'] as const)
    if (typeof parsed[field] !== 'string' || parsed[field] === '')
      throw new Error(`the side's report has no ${field}: ${line}`);
  return parsed as SideReport;
}
