/**
 * The events of the Kafka figures: realistic ones from the installer
 * simulator (seven types, ~500 packages), and the exact messages the
 * project's producer puts on the topic for them (Avro single-object bytes,
 * the package as key, the same headers), so that the bare baselines send the
 * same bytes with the same keys.
 */
import { InstallerSimulation } from '../../cli/simulator.js';
import type { AuditEvent } from '../../producer/audit-event.js';
import { HEADER_EVENT_TYPE, HEADER_SCHEMA_FINGERPRINT } from '../../producer/kafka-transport.js';
import { kafkaKeyFor } from '../../producer/kafka-key.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { toExportObject } from '../../schemas/render.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { encodeSingleObject } from '../../schemas/single-object.js';

/** What `AuditTrail` fills in as `source` for the events of the figures (AUDIT_SOURCE). */
export const SOURCE = 'bench-host';

export interface BenchMessage {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  timestamp: string;
}

export interface BenchEvents {
  events: AuditEvent[];
  records: AuditEventRecord[];
  messages: BenchMessage[];
}

export function simulatedEvents(count: number, seed = 7): BenchEvents {
  const simulation = new InstallerSimulation(seed, Date.UTC(2026, 0, 1));
  const schemas = auditEventSchemas();
  const events: AuditEvent[] = [];
  const records: AuditEventRecord[] = [];
  const messages: BenchMessage[] = [];
  const timestamp = String(Date.now());
  for (let i = 0; i < count; i++) {
    const event = simulation.next();
    const record = event.toRecord();
    record.source ??= SOURCE;
    const value = encodeSingleObject(schemas, record);
    events.push(event);
    records.push(record);
    messages.push({
      key: kafkaKeyFor(record),
      value,
      timestamp,
      headers: {
        [HEADER_EVENT_TYPE]: record.event_type,
        [HEADER_SCHEMA_FINGERPRINT]: value.subarray(2, 10).toString('hex'),
      },
    });
  }
  return { events, records, messages };
}

/** The events as `audit-trail produce --from` reads them: one export-shaped JSON object a line. */
export function ndjson(records: readonly AuditEventRecord[]): string {
  return records.map((record) => JSON.stringify(toExportObject(record))).join('\n') + '\n';
}

/**
 * Batches as the project's producer cuts them: at most `maxEvents` messages
 * and `maxBytes` of values (before compression) per produce request.
 */
export function batches<T extends { value: Buffer }>(
  messages: readonly T[],
  maxEvents: number,
  maxBytes: number,
): T[][] {
  const out: T[][] = [];
  let batch: T[] = [];
  let bytes = 0;
  for (const message of messages) {
    if (
      batch.length > 0 &&
      (batch.length >= maxEvents || bytes + message.value.length > maxBytes)
    ) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(message);
    bytes += message.value.length;
  }
  if (batch.length > 0) out.push(batch);
  return out;
}

/**
 * The messages as one kcat -P input: key, key delimiter, value, message
 * delimiter. The delimiters are random bytes, redrawn until splitting the
 * file gives back exactly the messages (Avro values may hold any byte).
 */
export function kcatInput(
  messages: readonly BenchMessage[],
  random: () => Buffer,
): { data: Buffer; keyDelimiter: Buffer; messageDelimiter: Buffer } {
  for (let attempt = 0; attempt < 10; attempt++) {
    const keyDelimiter = random();
    const messageDelimiter = random();
    const parts: Buffer[] = [];
    for (const message of messages)
      parts.push(Buffer.from(message.key), keyDelimiter, message.value, messageDelimiter);
    const data = Buffer.concat(parts);
    if (splitsBack(data, messages, keyDelimiter, messageDelimiter))
      return { data, keyDelimiter, messageDelimiter };
  }
  throw new Error('no delimiters found that are absent from the messages');
}

function splitsBack(
  data: Buffer,
  messages: readonly BenchMessage[],
  keyDelimiter: Buffer,
  messageDelimiter: Buffer,
): boolean {
  let at = 0;
  for (const message of messages) {
    const end = data.indexOf(messageDelimiter, at);
    if (end < 0) return false;
    const split = data.indexOf(keyDelimiter, at);
    if (split < 0 || split > end) return false;
    if (data.toString('utf8', at, split) !== message.key) return false;
    if (!data.subarray(split + keyDelimiter.length, end).equals(message.value)) return false;
    at = end + messageDelimiter.length;
  }
  return at === data.length;
}

/** A delimiter as kcat's -K and -D take it: `\xNN` for each byte. */
export function kcatDelimiter(bytes: Buffer): string {
  return [...bytes].map((byte) => `\\x${byte.toString(16).padStart(2, '0')}`).join('');
}
