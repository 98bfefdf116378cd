/**
 * The alert contract (pure): what the suspicious-activity monitor raises, as
 * it is published on `audit.alerts` and logged. An alert's id is a function of
 * what triggered it, so that the same trigger, evaluated again after a restart
 * or a rebalance, yields the same alert and a reader can tell it is the same.
 * The rules and the formats are in docs/monitor.md.
 */
import { v5 as uuidv5 } from 'uuid';

export const ALERT_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export function isAlertSeverity(value: unknown): value is AlertSeverity {
  return typeof value === 'string' && (ALERT_SEVERITIES as readonly string[]).includes(value);
}

export interface Alert {
  /** uuid v5 of rule, key and event_ids in ALERT_ID_NAMESPACE (alertId). */
  id: string;
  /** The rule that fired, one of the monitor's rule ids (`integrity-failures-package`, ...). */
  rule: string;
  severity: AlertSeverity;
  /** ISO 8601 UTC: the event time of the event that completed the trigger. */
  time: string;
  /** The state key the rule counted under, e.g. `package:left-pad`, `source:ci-runner-01`. */
  key: string;
  /** Ids of the events that triggered it, in event-time order. */
  event_ids: string[];
  /** One human sentence naming what happened. */
  message: string;
}

/**
 * The namespace of alert ids (uuid v5). Fixed for good: changing it would give
 * an alert raised again after an upgrade a new id, and readers that drop
 * repeated ids would see it twice.
 */
export const ALERT_ID_NAMESPACE = 'a6439678-cb40-4cd4-88df-9bc38aa00062';

/**
 * The id of the alert `rule` raises for `key` on `eventIds`: a uuid v5 of the
 * JSON array [rule, key, ...eventIds], an encoding in which two different
 * triggers never give the same text, whatever characters their parts hold.
 */
export function alertId(rule: string, key: string, eventIds: readonly string[]): string {
  return uuidv5(JSON.stringify([rule, key, ...eventIds]), ALERT_ID_NAMESPACE);
}

/** The alert as one JSON object, fields in the order of the Alert interface, no line end. */
export function renderAlertJson(alert: Alert): string {
  return JSON.stringify({
    id: alert.id,
    rule: alert.rule,
    severity: alert.severity,
    time: alert.time,
    key: alert.key,
    event_ids: alert.event_ids,
    message: alert.message,
  });
}
