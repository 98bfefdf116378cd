/**
 * The monitor's rule state (pure, deterministic): the events routed to one
 * partition of the keyed topic are applied one by one under their state key,
 * and each returns the alerts it raises. Everything depends on the events and
 * their order only (windows run on event time, alert ids are derived from the
 * triggering events), so replaying a partition's records rebuilds the same
 * state and raises the same alerts with the same ids. Memory is bounded per
 * key: a count keeps at most its threshold of sightings, a package at most
 * MAX_SCANS_PER_VERSION vulnerable scans per version within the window, a
 * user at most `maxIpsPerUser` addresses.
 */
import { type Alert, type AlertSeverity, ALERT_SEVERITIES, alertId } from '../../schemas/alert.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { AuditEventType } from '../../schemas/event-type.js';
import { isInstall, isVulnerableScan, ruleKey } from './rule-match.js';
import { KnownAddresses, type Sighting, VulnerableScans, WindowCounter } from './rule-state.js';
import {
  MONITOR_RULE_IDS,
  type MonitorRuleId,
  type MonitorRules,
  parseMonitorRules,
} from './rules.js';

type CountRuleId =
  | 'integrity-failures-package'
  | 'integrity-failures-source'
  | 'failure-burst'
  | 'runtime-block-rate';

interface KeyState {
  counters: Partial<Record<CountRuleId, WindowCounter>>;
  scans?: VulnerableScans;
  addresses?: KnownAddresses;
}

const SECOND = 1000;

/** "10 minutes", "1 minute", "30 days": a whole number of the largest unit that divides it, else seconds. */
export function describeDuration(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1_000, 'second'],
  ];
  for (const [size, name] of units)
    if (ms >= size && ms % size === 0) {
      const n = ms / size;
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  return `${ms} ms`;
}

/** Roughly how long `ms` is, for messages: "3 days", "2 hours", "5 minutes", "12 seconds". */
function roughDuration(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1_000, 'second'],
  ];
  for (const [size, name] of units)
    if (ms >= size) {
      const n = Math.floor(ms / size);
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  return 'less than a second';
}

/** A scan's `max_severity` word as an alert severity; undefined for words outside the scale. */
function scanSeverity(word: string): AlertSeverity | undefined {
  switch (word.trim().toLowerCase()) {
    case 'low':
      return 'low';
    case 'moderate':
    case 'medium':
      return 'medium';
    case 'high':
      return 'high';
    case 'critical':
      return 'critical';
    default:
      return undefined;
  }
}

function higher(a: AlertSeverity, b: AlertSeverity | undefined): AlertSeverity {
  if (b === undefined) return a;
  return ALERT_SEVERITIES.indexOf(b) > ALERT_SEVERITIES.indexOf(a) ? b : a;
}

function packageLabel(event: AuditEventRecord): string {
  return `${event.package_name ?? 'unknown package'}${event.package_version === null ? '' : `@${event.package_version}`}`;
}

function where(event: AuditEventRecord): string {
  return [
    event.source === null ? '' : ` on ${event.source}`,
    event.user === null ? '' : ` by ${event.user}`,
  ].join('');
}

function countMessage(rule: CountRuleId, key: string, count: number, windowMs: number): string {
  const name = key.slice(key.indexOf(':') + 1);
  const within = `within ${describeDuration(windowMs)}`;
  switch (rule) {
    case 'integrity-failures-package':
      return `${count} failed integrity checks of package ${name} ${within}`;
    case 'integrity-failures-source':
      return `${count} failed integrity checks on ${name} ${within}`;
    case 'failure-burst':
      return `${count} failed operations on ${name} ${within}`;
    case 'runtime-block-rate':
      return `${count} operations blocked by runtime protection on ${name} ${within}`;
  }
}

export class MonitorState {
  private readonly rules: MonitorRules;
  private readonly keys = new Map<string, KeyState>();

  constructor(rules: MonitorRules) {
    // checked and copied as a rules file would be: a bad value names its rule and field
    this.rules = parseMonitorRules(JSON.stringify({ rules }), 'MonitorState');
  }

  /** Number of keys held (for stats/logs). */
  get size(): number {
    return this.keys.size;
  }

  private state(key: string): KeyState {
    let s = this.keys.get(key);
    if (s === undefined) {
      s = { counters: {} };
      this.keys.set(key, s);
    }
    return s;
  }

  /** Applies one routed event under its state key; returns the alerts it raises (deterministic). */
  apply(key: string, event: AuditEventRecord): Alert[] {
    const alerts: Alert[] = [];
    for (const rule of MONITOR_RULE_IDS) {
      // an event counts under a key only where the router would have sent it for this rule
      if (ruleKey(rule, event, this.rules) !== key) continue;
      const alert = this.evaluate(rule, key, event);
      if (alert !== null) alerts.push(alert);
    }
    return alerts;
  }

  private alert(
    rule: MonitorRuleId,
    severity: AlertSeverity,
    key: string,
    event: AuditEventRecord,
    eventIds: string[],
    message: string,
  ): Alert {
    return {
      id: alertId(rule, key, eventIds),
      rule,
      severity,
      time: new Date(event.timestamp).toISOString(),
      key,
      event_ids: eventIds,
      message,
    };
  }

  private evaluate(rule: MonitorRuleId, key: string, event: AuditEventRecord): Alert | null {
    switch (rule) {
      case 'integrity-failures-package':
      case 'integrity-failures-source':
      case 'failure-burst':
      case 'runtime-block-rate':
        return this.count(rule, key, event);
      case 'install-after-vulnerable-scan':
        return this.vulnerableInstall(key, event);
      case 'protection-disabled':
        return this.protectionDisabled(key, event);
      case 'new-ip-for-user':
        return this.newAddress(key, event);
    }
  }

  private count(rule: CountRuleId, key: string, event: AuditEventRecord): Alert | null {
    const config = this.rules[rule];
    const s = this.state(key);
    const counter = (s.counters[rule] ??= new WindowCounter(
      config.threshold,
      config.windowSeconds * SECOND,
      config.cooldownSeconds * SECOND,
    ));
    const fired: Sighting[] | null = counter.add(event.timestamp, event.id);
    if (fired === null) return null;
    return this.alert(
      rule,
      config.severity,
      key,
      event,
      fired.map((f) => f.id),
      countMessage(rule, key, fired.length, config.windowSeconds * SECOND),
    );
  }

  private vulnerableInstall(key: string, event: AuditEventRecord): Alert | null {
    const config = this.rules['install-after-vulnerable-scan'];
    const version = event.package_version;
    if (version === null) return null;
    const s = this.state(key);
    const scans = (s.scans ??= new VulnerableScans(
      config.windowSeconds * SECOND,
      config.cooldownSeconds * SECOND,
    ));
    if (isVulnerableScan(event, config.scanSeverities)) {
      scans.scan(version, {
        time: event.timestamp,
        id: event.id,
        maxSeverity: event.details['max_severity'] ?? '',
        advisories: event.details['advisories'],
      });
      return null;
    }
    if (!isInstall(event)) return null;
    const scan = scans.install(version, event.timestamp);
    if (scan === null) return null;
    const verb = event.event_type === AuditEventType.PackageUpdate ? 'update to' : 'install of';
    const found = scan.advisories === undefined ? 'advisories' : `${scan.advisories} advisories`;
    return this.alert(
      'install-after-vulnerable-scan',
      higher(config.severity, scanSeverity(scan.maxSeverity)),
      key,
      event,
      [scan.id, event.id],
      `${verb} ${packageLabel(event)}${where(event)} ${roughDuration(event.timestamp - scan.time)} after a vulnerability scan of that version found ${found}, the worst ${scan.maxSeverity}`,
    );
  }

  private protectionDisabled(key: string, event: AuditEventRecord): Alert | null {
    const config = this.rules['protection-disabled'];
    const setting = event.details['setting'] ?? '';
    const from = event.details['old_value'];
    const to = event.details['new_value'] ?? '';
    return this.alert(
      'protection-disabled',
      config.severity,
      key,
      event,
      [event.id],
      `configuration change${where(event)} turned off ${setting} (${from === undefined ? '' : `${from} -> `}${to})`,
    );
  }

  private newAddress(key: string, event: AuditEventRecord): Alert | null {
    const config = this.rules['new-ip-for-user'];
    if (event.ip_address === null || event.user === null) return null;
    const s = this.state(key);
    const addresses = (s.addresses ??= new KnownAddresses(
      config.windowSeconds * SECOND,
      config.maxIpsPerUser,
    ));
    const others = addresses.see(event.ip_address, event.timestamp);
    if (others === null) return null;
    const seen = `${others} other address${others === 1 ? '' : 'es'} seen for them within ${describeDuration(config.windowSeconds * SECOND)}`;
    return this.alert(
      'new-ip-for-user',
      config.severity,
      key,
      event,
      [event.id],
      `user ${event.user} acted from a new address ${event.ip_address} (${event.event_type}${event.source === null ? '' : ` on ${event.source}`}); ${seen}`,
    );
  }
}
