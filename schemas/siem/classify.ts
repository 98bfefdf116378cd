/**
 * What an audit event is, in the terms the SIEM renderings share (pure): which
 * of the seven types, whether it is an access record, what runtime protection
 * did, what a vulnerability scan found, and one severity on OCSF's scale
 * (1 Informational to 5 Critical) from which ECS's `event.severity` and CEF's
 * severity follow. The rules are in docs/siem.md.
 */
import { AuditErrorCode, ValidationError } from '../../common/errors.js';
import type { AuditEventRecord } from '../event-record.js';
import { AuditEventType } from '../event-type.js';

/** The `details` key that marks an access record (docs/access-records.md). */
export const ACCESS_KEY = 'audit_access';
/** The error code of an access whose archive did not verify. */
const VERIFY_FAILED = 'VERIFY_FAILED';

/** The kind of event a rendering distinguishes; each maps to one OCSF class. */
export type SiemKind =
  | 'package-install'
  | 'package-uninstall'
  | 'package-update'
  | 'integrity-check'
  | 'integrity-failure'
  | 'audit-access'
  | 'vulnerability-scan'
  | 'vulnerability-finding'
  | 'runtime-protection'
  | 'configuration-change';

/** What runtime protection did with the operation (`details.action`). */
export type RuntimeAction = 'blocked' | 'allowed' | 'sandboxed' | 'unknown';

/** OCSF severity_id: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical. */
export type SiemSeverity = 1 | 2 | 3 | 4 | 5;

export const SEVERITY_NAMES: Readonly<Record<SiemSeverity, string>> = {
  1: 'Informational',
  2: 'Low',
  3: 'Medium',
  4: 'High',
  5: 'Critical',
};

export interface Classified {
  kind: SiemKind;
  severity: SiemSeverity;
  /** For RuntimeProtection events; 'unknown' for the others. */
  action: RuntimeAction;
  /** For VulnerabilityScan events: `details.advisories` as a number, null when absent or not a count. */
  advisories: number | null;
}

export function isAccess(record: AuditEventRecord): boolean {
  return (
    record.event_type === AuditEventType.IntegrityCheck && Object.hasOwn(record.details, ACCESS_KEY)
  );
}

function detail(record: AuditEventRecord, key: string): string | undefined {
  return Object.hasOwn(record.details, key) ? record.details[key] : undefined;
}

export function runtimeAction(record: AuditEventRecord): RuntimeAction {
  const action = detail(record, 'action')?.trim().toLowerCase();
  return action === 'blocked' || action === 'allowed' || action === 'sandboxed'
    ? action
    : 'unknown';
}

function advisoryCount(record: AuditEventRecord): number | null {
  const text = detail(record, 'advisories');
  return text !== undefined && /^\d{1,9}$/u.test(text) ? Number(text) : null;
}

/** `details.max_severity` of a scan (osv and npm audit words) on the OCSF scale; Medium when unknown. */
export function advisorySeverity(record: AuditEventRecord): SiemSeverity {
  switch (detail(record, 'max_severity')?.trim().toLowerCase()) {
    case 'none':
    case 'info':
      return 1;
    case 'low':
      return 2;
    case 'moderate':
    case 'medium':
      return 3;
    case 'high':
      return 4;
    case 'critical':
      return 5;
    default:
      return 3;
  }
}

/** Whether a scan found something: a positive advisory count, or a severity other than none when the count is absent. */
function foundAdvisories(record: AuditEventRecord, advisories: number | null): boolean {
  if (advisories !== null) return advisories > 0;
  const severity = detail(record, 'max_severity')?.trim().toLowerCase();
  return severity !== undefined && severity !== 'none';
}

export function classify(record: AuditEventRecord): Classified {
  const ok = record.success;
  const base = { action: 'unknown' as RuntimeAction, advisories: null };
  switch (record.event_type) {
    case AuditEventType.PackageInstall:
      return { ...base, kind: 'package-install', severity: ok ? 1 : 2 };
    case AuditEventType.PackageUninstall:
      return { ...base, kind: 'package-uninstall', severity: ok ? 1 : 2 };
    case AuditEventType.PackageUpdate:
      return { ...base, kind: 'package-update', severity: ok ? 1 : 2 };
    case AuditEventType.IntegrityCheck: {
      if (isAccess(record)) {
        const unverified =
          detail(record, 'audit_access.error_code') === VERIFY_FAILED ||
          detail(record, 'audit_access.verification') === 'failed';
        return { ...base, kind: 'audit-access', severity: ok ? 1 : unverified ? 4 : 2 };
      }
      return ok
        ? { ...base, kind: 'integrity-check', severity: 1 }
        : { ...base, kind: 'integrity-failure', severity: 4 };
    }
    case AuditEventType.VulnerabilityScan: {
      const advisories = advisoryCount(record);
      return ok && foundAdvisories(record, advisories)
        ? { ...base, advisories, kind: 'vulnerability-finding', severity: advisorySeverity(record) }
        : { ...base, advisories, kind: 'vulnerability-scan', severity: ok ? 1 : 2 };
    }
    case AuditEventType.RuntimeProtection: {
      const action = runtimeAction(record);
      const severity: SiemSeverity = !ok
        ? 4
        : action === 'blocked'
          ? 3
          : action === 'allowed'
            ? 1
            : 2;
      return { ...base, action, kind: 'runtime-protection', severity };
    }
    case AuditEventType.ConfigurationChange:
      return { ...base, kind: 'configuration-change', severity: 2 };
    default:
      // a type this version does not know has no mapping: refused, never rendered as something it is not
      throw new ValidationError(
        AuditErrorCode.UnknownEventType,
        'event_type',
        `${JSON.stringify(record.event_type)} has no SIEM mapping`,
      );
  }
}

/** `name@version`, or the name alone; null without a package. */
export function packageLabel(record: AuditEventRecord): string | null {
  if (record.package_name === null) return null;
  return record.package_version === null
    ? record.package_name
    : `${record.package_name}@${record.package_version}`;
}

/** A one-line summary for people: OCSF `message`, ECS `message`, CEF `Name` is built alike. */
export function summary(record: AuditEventRecord, c: Classified): string {
  const pkg = packageLabel(record);
  const of = pkg === null ? '' : ` of ${pkg}`;
  const failed = record.success ? '' : ' failed';
  switch (c.kind) {
    case 'package-install':
      return `install${of}${failed}`;
    case 'package-uninstall':
      return `uninstall${of}${failed}`;
    case 'package-update':
      return `update${of}${failed}`;
    case 'integrity-check':
      return `integrity check${of} passed`;
    case 'integrity-failure':
      return `integrity check${of} failed`;
    case 'audit-access':
      return `audit data ${detail(record, ACCESS_KEY) ?? 'access'} by ${record.user ?? 'unknown user'}${failed}`;
    case 'vulnerability-finding':
      return `vulnerability scan${of}: ${c.advisories ?? 'some'} advisories`;
    case 'vulnerability-scan':
      return record.success
        ? `vulnerability scan${of}: no advisories`
        : `vulnerability scan${of} failed`;
    case 'runtime-protection':
      return `runtime protection ${c.action === 'unknown' ? 'reported' : c.action} an operation${pkg === null ? '' : ` by ${pkg}`}${failed}`;
    case 'configuration-change':
      return `configuration change${detail(record, 'setting') === undefined ? '' : ` of ${detail(record, 'setting')}`}${failed}`;
  }
}
