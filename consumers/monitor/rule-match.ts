/**
 * Which events each rule looks at, and under which state key (pure). The
 * router (monitorKeys) and the evaluation (MonitorState) both ask here, so
 * that an event is routed to a key exactly when a rule will count it there.
 */
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { AuditEventType } from '../../schemas/event-type.js';
import { isAccess, runtimeAction } from '../../schemas/siem/classify.js';
import type { MonitorRuleId, MonitorRules } from './rules.js';

export function packageKey(name: string): string {
  return `package:${name}`;
}

export function sourceKey(source: string): string {
  return `source:${source}`;
}

export function userKey(user: string): string {
  return `user:${user}`;
}

export function eventKey(id: string): string {
  return `event:${id}`;
}

function detail(event: AuditEventRecord, key: string): string | undefined {
  return Object.hasOwn(event.details, key) ? event.details[key] : undefined;
}

function oneOfWords(value: string | undefined, words: readonly string[]): boolean {
  if (value === undefined) return false;
  const v = value.trim().toLowerCase();
  return words.some((w) => w.trim().toLowerCase() === v);
}

/** A failed integrity check of a package (an access record is not one: it is an export that failed). */
export function isIntegrityFailure(event: AuditEventRecord): boolean {
  return event.event_type === AuditEventType.IntegrityCheck && !event.success && !isAccess(event);
}

/** A completed vulnerability scan of a package version whose worst advisory is one of `severities`. */
export function isVulnerableScan(event: AuditEventRecord, severities: readonly string[]): boolean {
  return (
    event.event_type === AuditEventType.VulnerabilityScan &&
    event.success &&
    event.package_name !== null &&
    event.package_version !== null &&
    oneOfWords(detail(event, 'max_severity'), severities)
  );
}

/** A successful install or update of a package version. */
export function isInstall(event: AuditEventRecord): boolean {
  return (
    (event.event_type === AuditEventType.PackageInstall ||
      event.event_type === AuditEventType.PackageUpdate) &&
    event.success &&
    event.package_name !== null &&
    event.package_version !== null
  );
}

/** A configuration change that went through and switched one of `settings` to one of `offValues`. */
export function isProtectionOff(
  event: AuditEventRecord,
  settings: readonly string[],
  offValues: readonly string[],
): boolean {
  return (
    event.event_type === AuditEventType.ConfigurationChange &&
    event.success &&
    oneOfWords(detail(event, 'setting'), settings) &&
    oneOfWords(detail(event, 'new_value'), offValues)
  );
}

export function isRuntimeBlock(event: AuditEventRecord): boolean {
  return (
    event.event_type === AuditEventType.RuntimeProtection && runtimeAction(event) === 'blocked'
  );
}

/** The state key under which `rule` counts `event`, or null when the rule is off or does not look at it. */
export function ruleKey(
  rule: MonitorRuleId,
  event: AuditEventRecord,
  rules: MonitorRules,
): string | null {
  if (!rules[rule].enabled) return null;
  switch (rule) {
    case 'integrity-failures-package':
      return isIntegrityFailure(event) && event.package_name !== null
        ? packageKey(event.package_name)
        : null;
    case 'integrity-failures-source':
      return isIntegrityFailure(event) && event.source !== null ? sourceKey(event.source) : null;
    case 'install-after-vulnerable-scan': {
      const matches =
        isInstall(event) ||
        isVulnerableScan(event, rules['install-after-vulnerable-scan'].scanSeverities);
      return matches && event.package_name !== null ? packageKey(event.package_name) : null;
    }
    case 'protection-disabled': {
      const { settings, offValues } = rules['protection-disabled'];
      if (!isProtectionOff(event, settings, offValues)) return null;
      return event.source !== null ? sourceKey(event.source) : eventKey(event.id);
    }
    case 'new-ip-for-user':
      return event.user !== null && event.ip_address !== null ? userKey(event.user) : null;
    case 'failure-burst':
      return !event.success && event.source !== null ? sourceKey(event.source) : null;
    case 'runtime-block-rate':
      return isRuntimeBlock(event) && event.source !== null ? sourceKey(event.source) : null;
  }
}
