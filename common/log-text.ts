/**
 * Log lines for a person at a terminal: `12:04:05.123 WARN message key=value`.
 * It reads the JSON lines pino writes (after redaction, so secrets stay out)
 * and keeps the time, the level, the message and the scalar fields; stack
 * traces and pino's own bookkeeping (pid, hostname) are left out, and an error
 * object is shown by its message.
 */
import type { DestinationStream } from 'pino';

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** Fields that pino adds to every line, or that are shown otherwise. */
const LEFT_OUT = new Set([
  'level',
  'time',
  'pid',
  'hostname',
  'msg',
  'stack',
  'timestamp',
  'logger',
]);

function clock(time: unknown): string {
  const date = typeof time === 'number' ? new Date(time) : new Date();
  return date.toISOString().slice(11, 23);
}

function valueText(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'object') {
    const message = (value as { message?: unknown }).message;
    if (typeof message === 'string') return valueText(message); // an error: its message, no stack
    const json = JSON.stringify(value);
    return json.length > 120 ? `${json.slice(0, 117)}...` : json;
  }
  // what is left after JSON.parse: a string, a number or a boolean
  const text = (typeof value === 'string' ? value : JSON.stringify(value)).replace(/\s+/g, ' ');
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}

/** One text line for one pino JSON line; the line itself when it is not JSON. */
export function textLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const level = LEVEL_NAMES[entry['level'] as number] ?? String(entry['level']);
  const fields = Object.entries(entry)
    .filter(([name]) => !LEFT_OUT.has(name))
    .map(([name, value]) => [name, valueText(value)] as const)
    .filter(([, text]) => text !== undefined)
    .map(([name, text]) => `${name}=${text}`);
  const message = typeof entry['msg'] === 'string' ? entry['msg'].replace(/\s+/g, ' ') : '';
  return `${[clock(entry['time']), level.padEnd(5), message, ...fields].join(' ')}\n`;
}

/** A pino destination that writes text lines to `out`. */
export function textDestination(out: { write(text: string): unknown }): DestinationStream {
  return { write: (json: string) => void out.write(textLine(json)) };
}
