/**
 * The wire and export shape of an event: the Avro record, field for field,
 * with the snake_case names of the schema. `timestamp` is milliseconds since
 * the epoch, UTC.
 */
export const EVENT_FIELDS = [
  'id',
  'timestamp',
  'event_type',
  'package_name',
  'package_version',
  'user',
  'ip_address',
  'details',
  'success',
  'error_message',
  'source',
] as const;

export type EventField = (typeof EVENT_FIELDS)[number];

export interface AuditEventRecord {
  id: string;
  timestamp: number;
  event_type: string;
  package_name: string | null;
  package_version: string | null;
  user: string | null;
  ip_address: string | null;
  details: Record<string, string>;
  success: boolean;
  error_message: string | null;
  source: string | null;
}
