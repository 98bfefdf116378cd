/** Selection of events for an export (pure). All given conditions must hold. */
import type { AuditEventRecord } from '../../schemas/event-record.js';

export interface EventFilter {
  packageName?: string | undefined;
  eventType?: string | undefined;
  user?: string | undefined;
  /** Inclusive lower bound of the event timestamp, ms since the epoch. */
  from?: number | undefined;
  /** Exclusive upper bound of the event timestamp, ms since the epoch. */
  to?: number | undefined;
}

export function matchesFilter(record: AuditEventRecord, filter: EventFilter): boolean {
  return (
    (filter.packageName === undefined || record.package_name === filter.packageName) &&
    (filter.eventType === undefined || record.event_type === filter.eventType) &&
    (filter.user === undefined || record.user === filter.user) &&
    (filter.from === undefined || record.timestamp >= filter.from) &&
    (filter.to === undefined || record.timestamp < filter.to)
  );
}

export async function* filterRecords(
  records: AsyncIterable<AuditEventRecord>,
  filter: EventFilter,
): AsyncGenerator<AuditEventRecord> {
  for await (const record of records) if (matchesFilter(record, filter)) yield record;
}
