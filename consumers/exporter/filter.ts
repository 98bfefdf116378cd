/**
 * The selection of an export (pure): which events it keeps. One set of
 * parameter names serves every way to ask for an export (CLI options, HTTP
 * query parameters, the `filters` of an export request), so that a filter
 * means the same everywhere and a bad one is refused with the parameter named.
 *
 * All given conditions must hold; `type` may be given several times (any of).
 */
import { ConfigError } from '../../common/errors.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import {
  AUDIT_EVENT_TYPES,
  isAuditEventType,
  type AuditEventType,
} from '../../schemas/event-type.js';

export interface EventFilter {
  packageName?: string | undefined;
  packageVersion?: string | undefined;
  /** Any of these types; all types when absent or empty. */
  eventTypes?: readonly AuditEventType[] | undefined;
  user?: string | undefined;
  ipAddress?: string | undefined;
  source?: string | undefined;
  success?: boolean | undefined;
  /** Inclusive lower bound of the event timestamp, ms since the epoch. */
  from?: number | undefined;
  /** Exclusive upper bound of the event timestamp, ms since the epoch. */
  to?: number | undefined;
}

/** Parameter names, as CLI options (`--package`), query parameters and request filters. */
export const FILTER_PARAMS = {
  package: 'only events of this package',
  version: 'only events of this package version',
  type: `only events of this type (repeat for several: ${AUDIT_EVENT_TYPES.join(', ')})`,
  user: 'only events of this user',
  ip: 'only events from this IP address',
  source: 'only events from this source (host or installer id)',
  success: 'only successful (true) or failed (false) operations',
  from: 'only events at or after this time (ISO-8601, e.g. 2026-01-31T00:00:00Z)',
  to: 'only events before this time (ISO-8601)',
} as const;

export type FilterParam = keyof typeof FILTER_PARAMS;
export type FilterParams = Partial<Record<FilterParam, string | readonly string[] | undefined>>;

/** A bad filter parameter: INVALID_OPTION with `field` = the parameter's name. */
export class FilterError extends ConfigError {
  constructor(param: string, message: string) {
    super(param, message);
    this.name = 'FilterError';
  }
}

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

function time(param: string, value: string): number {
  const t = ISO.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(t))
    throw new FilterError(
      param,
      `must be an ISO-8601 date or time with a zone, such as 2026-01-31 or 2026-01-31T12:00:00Z, got ${JSON.stringify(value)}`,
    );
  return t;
}

function single(
  param: FilterParam,
  value: string | readonly string[] | undefined,
): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (value.length > 1) throw new FilterError(param, 'may be given only once');
  return value[0];
}

/**
 * The filter that `params` describe. Unknown parameters are refused (a typo
 * must not silently widen an export); every value is checked.
 */
export function parseFilter(
  params: Record<string, string | readonly string[] | undefined>,
): EventFilter {
  for (const name of Object.keys(params)) {
    if (!(name in FILTER_PARAMS))
      throw new FilterError(
        name,
        `is not a filter (filters: ${Object.keys(FILTER_PARAMS).join(', ')})`,
      );
  }
  const p = params as FilterParams;
  const nonEmpty = (param: FilterParam): string | undefined => {
    const value = single(param, p[param]);
    if (value !== undefined && value.length === 0)
      throw new FilterError(param, 'must not be empty');
    return value;
  };
  const types = p.type === undefined ? [] : typeof p.type === 'string' ? [p.type] : [...p.type];
  const eventTypes = types
    .flatMap((t) => t.split(','))
    .map((t) => {
      if (!isAuditEventType(t))
        throw new FilterError(
          'type',
          `must be one of ${AUDIT_EVENT_TYPES.join(', ')}, got ${JSON.stringify(t)}`,
        );
      return t;
    });
  const success = single('success', p.success);
  if (success !== undefined && success !== 'true' && success !== 'false')
    throw new FilterError('success', `must be true or false, got ${JSON.stringify(success)}`);
  const fromText = single('from', p.from);
  const toText = single('to', p.to);
  const from = fromText === undefined ? undefined : time('from', fromText);
  const to = toText === undefined ? undefined : time('to', toText);
  if (from !== undefined && to !== undefined && from >= to)
    throw new FilterError('from', 'must be before to');
  return {
    packageName: nonEmpty('package'),
    packageVersion: nonEmpty('version'),
    eventTypes: eventTypes.length === 0 ? undefined : [...new Set(eventTypes)],
    user: nonEmpty('user'),
    ipAddress: nonEmpty('ip'),
    source: nonEmpty('source'),
    success: success === undefined ? undefined : success === 'true',
    from,
    to,
  };
}

/** The parameters of `filter` (the inverse of parseFilter), for requests and access records. */
export function filterParams(filter: EventFilter): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (filter.packageName !== undefined) out['package'] = filter.packageName;
  if (filter.packageVersion !== undefined) out['version'] = filter.packageVersion;
  if (filter.eventTypes !== undefined && filter.eventTypes.length > 0)
    out['type'] = [...filter.eventTypes];
  if (filter.user !== undefined) out['user'] = filter.user;
  if (filter.ipAddress !== undefined) out['ip'] = filter.ipAddress;
  if (filter.source !== undefined) out['source'] = filter.source;
  if (filter.success !== undefined) out['success'] = String(filter.success);
  if (filter.from !== undefined) out['from'] = new Date(filter.from).toISOString();
  if (filter.to !== undefined) out['to'] = new Date(filter.to).toISOString();
  return out;
}

export function matchesFilter(record: AuditEventRecord, filter: EventFilter): boolean {
  return (
    (filter.packageName === undefined || record.package_name === filter.packageName) &&
    (filter.packageVersion === undefined || record.package_version === filter.packageVersion) &&
    (filter.eventTypes === undefined ||
      filter.eventTypes.length === 0 ||
      filter.eventTypes.includes(record.event_type as AuditEventType)) &&
    (filter.user === undefined || record.user === filter.user) &&
    (filter.ipAddress === undefined || record.ip_address === filter.ipAddress) &&
    (filter.source === undefined || record.source === filter.source) &&
    (filter.success === undefined || record.success === filter.success) &&
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
