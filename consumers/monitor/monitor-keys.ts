/**
 * Routing of the monitor (pure): the state keys an event is copied to on the
 * monitor's keyed topic, so that every event one rule counts together (one
 * package's, one source's, one user's) meets in one partition and one state.
 */
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { ruleKey } from './rule-match.js';
import { MONITOR_RULE_IDS, type MonitorRules } from './rules.js';

/**
 * The state keys `event` is routed to: `package:<name>`, `source:<source>`,
 * `user:<user>` or `event:<id>`, deduplicated, in the order of MONITOR_RULE_IDS.
 * Empty when no enabled rule can use the event.
 */
export function monitorKeys(event: AuditEventRecord, rules: MonitorRules): string[] {
  const keys = new Set<string>();
  for (const rule of MONITOR_RULE_IDS) {
    const key = ruleKey(rule, event, rules);
    if (key !== null) keys.add(key);
  }
  return [...keys];
}
