/**
 * Scripted event sequences for the monitor's tests: events with ids that say
 * their order and times relative to one start, and a runner that routes each
 * event to its keys and applies it there, as the monitor's two steps do.
 */
import { monitorKeys } from '../../consumers/monitor/monitor-keys.js';
import { MonitorState } from '../../consumers/monitor/monitor-state.js';
import { DEFAULT_MONITOR_RULES, type MonitorRules } from '../../consumers/monitor/rules.js';
import type { Alert } from '../../schemas/alert.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { record } from '../helpers.js';

export const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export function iso(at: number): string {
  return new Date(T0 + at).toISOString();
}

/** Makes events numbered in the order they are made; `at` is milliseconds after T0. */
export class Script {
  private n = 0;
  readonly events: AuditEventRecord[] = [];

  event(at: number, overrides: Partial<AuditEventRecord> = {}): AuditEventRecord {
    this.n += 1;
    const e = record({
      id: `0190b6a2-0000-7000-8000-${String(this.n).padStart(12, '0')}`,
      timestamp: T0 + at,
      ...overrides,
    });
    this.events.push(e);
    return e;
  }

  integrityFailure(at: number, overrides: Partial<AuditEventRecord> = {}): AuditEventRecord {
    return this.event(at, {
      event_type: 'IntegrityCheck',
      success: false,
      error_message: 'integrity checksum mismatch: tarball altered',
      details: { algorithm: 'sha512' },
      ...overrides,
    });
  }

  scan(
    at: number,
    maxSeverity: string,
    overrides: Partial<AuditEventRecord> = {},
  ): AuditEventRecord {
    return this.event(at, {
      event_type: 'VulnerabilityScan',
      details: { advisories: '2', max_severity: maxSeverity, database: 'osv' },
      ...overrides,
    });
  }

  configChange(
    at: number,
    details: Record<string, string>,
    overrides: Partial<AuditEventRecord> = {},
  ): AuditEventRecord {
    return this.event(at, {
      event_type: 'ConfigurationChange',
      package_name: null,
      package_version: null,
      details,
      ...overrides,
    });
  }

  failedInstall(at: number, overrides: Partial<AuditEventRecord> = {}): AuditEventRecord {
    return this.event(at, {
      success: false,
      error_message: 'ETIMEDOUT while fetching tarball',
      ...overrides,
    });
  }

  runtime(at: number, action: string, overrides: Partial<AuditEventRecord> = {}): AuditEventRecord {
    return this.event(at, {
      event_type: 'RuntimeProtection',
      details: { action, operation: 'child_process.spawn' },
      ...overrides,
    });
  }
}

/** Every (key, event) the router makes of `events`, in order. */
export function routed(
  events: AuditEventRecord[],
  rules: MonitorRules = DEFAULT_MONITOR_RULES,
): [string, AuditEventRecord][] {
  return events.flatMap((e) =>
    monitorKeys(e, rules).map((key): [string, AuditEventRecord] => [key, e]),
  );
}

/** The alerts of applying `events` (routed) to `state`. */
export function run(
  events: AuditEventRecord[],
  rules: MonitorRules = DEFAULT_MONITOR_RULES,
  state: MonitorState = new MonitorState(rules),
): Alert[] {
  return routed(events, rules).flatMap(([key, e]) => state.apply(key, e));
}

export function rulesWith(change: (rules: MonitorRules) => void): MonitorRules {
  const rules = structuredClone(DEFAULT_MONITOR_RULES) as MonitorRules;
  change(rules);
  return rules;
}
