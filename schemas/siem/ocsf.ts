/**
 * The OCSF rendering of an audit event (pure): one JSON object of an OCSF
 * 1.3.0 event class (https://schema.ocsf.io/1.3.0/), with the attributes that
 * class requires and our fields mapped onto its own. The class of each kind of
 * event and why are in docs/siem.md; in short:
 *
 * - PackageInstall / PackageUninstall / PackageUpdate: Application Lifecycle
 *   (6002), activity Install (1), Remove (2), Update (8); the package is `app`.
 * - VulnerabilityScan that found advisories: Vulnerability Finding (2002); a
 *   clean or failed scan: Scan Activity (6007), Completed (2) or Error (6).
 * - IntegrityCheck that failed: Detection Finding (2004); one that passed:
 *   Scan Activity (6007). An access record (details.audit_access): Datastore
 *   Activity (6005), Read (1): someone read the audit archive.
 * - RuntimeProtection: Detection Finding (2004) with the security_control
 *   profile, whose action_id / disposition_id say what the protection did.
 * - ConfigurationChange: Device Config State Change (5019), activity Log (1).
 *
 * Everything an OCSF attribute does not hold (the `details`, the package where
 * the class has no place for it) is kept in `unmapped`, so nothing is lost.
 */
import type { AuditEventRecord } from '../event-record.js';
import {
  SEVERITY_NAMES,
  classify,
  packageLabel,
  summary,
  type Classified,
  type RuntimeAction,
} from './classify.js';
import { SIEM_PRODUCT } from './product.js';

/** The OCSF schema version the rendering targets, written in every event's `metadata.version`. */
export const OCSF_VERSION = '1.3.0';

type Json = Record<string, unknown>;

interface OcsfClass {
  uid: number;
  name: string;
  categoryUid: number;
  categoryName: string;
}

const CLASSES = {
  applicationLifecycle: {
    uid: 6002,
    name: 'Application Lifecycle',
    categoryUid: 6,
    categoryName: 'Application Activity',
  },
  datastoreActivity: {
    uid: 6005,
    name: 'Datastore Activity',
    categoryUid: 6,
    categoryName: 'Application Activity',
  },
  scanActivity: {
    uid: 6007,
    name: 'Scan Activity',
    categoryUid: 6,
    categoryName: 'Application Activity',
  },
  vulnerabilityFinding: {
    uid: 2002,
    name: 'Vulnerability Finding',
    categoryUid: 2,
    categoryName: 'Findings',
  },
  detectionFinding: {
    uid: 2004,
    name: 'Detection Finding',
    categoryUid: 2,
    categoryName: 'Findings',
  },
  deviceConfigStateChange: {
    uid: 5019,
    name: 'Device Config State Change',
    categoryUid: 5,
    categoryName: 'Discovery',
  },
} as const satisfies Record<string, OcsfClass>;

/** The activity of each class that the rendering uses: [activity_id, caption] from OCSF 1.3.0. */
const ACTIVITY = {
  install: [1, 'Install'],
  remove: [2, 'Remove'],
  update: [8, 'Update'],
  read: [1, 'Read'],
  completed: [2, 'Completed'],
  error: [6, 'Error'],
  create: [1, 'Create'],
  log: [1, 'Log'],
} as const satisfies Record<string, readonly [number, string]>;

/** security_control profile: [action_id, action, disposition_id, disposition] of what runtime protection did. */
const RUNTIME_DECISION: Readonly<Record<RuntimeAction, readonly [number, string, number, string]>> =
  {
    allowed: [1, 'Allowed', 1, 'Allowed'],
    blocked: [2, 'Denied', 2, 'Blocked'],
    // run in a sandbox: kept from the real system, which OCSF files under Denied / Isolated
    sandboxed: [2, 'Denied', 4, 'Isolated'],
    unknown: [0, 'Unknown', 0, 'Unknown'],
  };

const CVE = /^CVE-\d{4}-\d{4,}$/u;

function detail(record: AuditEventRecord, key: string): string | undefined {
  return Object.hasOwn(record.details, key) ? record.details[key] : undefined;
}

/** CVE ids named by a scan in `details.cve` or `details.cves` (separated by commas or spaces). */
function cveIds(record: AuditEventRecord): string[] {
  const text = [detail(record, 'cve'), detail(record, 'cves')]
    .filter((v) => v !== undefined)
    .join(',');
  return [...new Set(text.split(/[\s,]+/u).filter((id) => CVE.test(id)))];
}

/** The host that emitted the event, as an OCSF device (type unknown: an installer may run anywhere). */
function device(record: AuditEventRecord): Json | null {
  if (record.source === null && record.ip_address === null) return null;
  return {
    type_id: 0,
    type: 'Unknown',
    ...(record.source === null ? {} : { hostname: record.source }),
    ...(record.ip_address === null ? {} : { ip: record.ip_address }),
  };
}

function actor(record: AuditEventRecord): Json | null {
  return record.user === null ? null : { user: { name: record.user } };
}

/** Success / Failure of the base event's status (classes outside the Findings category). */
function outcome(record: AuditEventRecord): Json {
  return {
    status_id: record.success ? 1 : 2,
    status: record.success ? 'Success' : 'Failure',
    ...(record.error_message === null ? {} : { status_detail: record.error_message }),
  };
}

function unmapped(record: AuditEventRecord, withPackage: boolean): Json | null {
  const out: Json = {};
  if (withPackage && record.package_name !== null)
    out['package'] = {
      name: record.package_name,
      ...(record.package_version === null ? {} : { version: record.package_version }),
    };
  if (Object.keys(record.details).length > 0) out['details'] = { ...record.details };
  return Object.keys(out).length === 0 ? null : out;
}

interface Parts {
  cls: OcsfClass;
  activity: readonly [number, string];
  profiles: string[];
  attributes: Json;
  /** Whether the class has a place for the package (else it goes to `unmapped`). */
  packageMapped: boolean;
}

function classParts(record: AuditEventRecord, c: Classified): Parts {
  const host = device(record);
  const who = actor(record);
  // the host profile holds `device` and `actor` in the classes that take them from it
  const hostAttributes = {
    ...(host === null ? {} : { device: host }),
    ...(who === null ? {} : { actor: who }),
  };
  const hostProfile = host !== null || who !== null ? ['host'] : [];
  switch (c.kind) {
    case 'package-install':
    case 'package-uninstall':
    case 'package-update': {
      const registry = detail(record, 'registry');
      let vendor = 'Unknown';
      if (registry !== undefined && URL.canParse(registry))
        vendor = new URL(registry).hostname || vendor;
      return {
        cls: CLASSES.applicationLifecycle,
        activity:
          c.kind === 'package-install'
            ? ACTIVITY.install
            : c.kind === 'package-uninstall'
              ? ACTIVITY.remove
              : ACTIVITY.update,
        profiles: hostProfile,
        packageMapped: true,
        attributes: {
          ...outcome(record),
          app: {
            name: record.package_name ?? 'unknown',
            ...(record.package_version === null ? {} : { version: record.package_version }),
            vendor_name: vendor,
          },
          ...hostAttributes,
        },
      };
    }
    case 'audit-access': {
      const from = detail(record, 'audit_access.from');
      const src =
        record.ip_address !== null
          ? { ip: record.ip_address }
          : from !== undefined
            ? { hostname: from }
            : { name: 'unknown' };
      return {
        cls: CLASSES.datastoreActivity,
        activity: ACTIVITY.read,
        profiles: [],
        packageMapped: false,
        attributes: {
          ...outcome(record),
          ...(detail(record, 'audit_access.error_code') === undefined
            ? {}
            : { status_code: detail(record, 'audit_access.error_code') }),
          actor: who ?? { app_name: SIEM_PRODUCT.name },
          src_endpoint: src,
          ...(record.source === null ? {} : { dst_endpoint: { hostname: record.source } }),
          databucket: { type_id: 0, type: 'Unknown', name: `${SIEM_PRODUCT.name} archive` },
        },
      };
    }
    case 'integrity-check':
    case 'vulnerability-scan': {
      const integrity = c.kind === 'integrity-check';
      return {
        cls: CLASSES.scanActivity,
        activity: record.success ? ACTIVITY.completed : ACTIVITY.error,
        profiles: hostProfile,
        packageMapped: false,
        attributes: {
          ...outcome(record),
          scan: {
            type_id: 99,
            type: integrity ? 'Integrity Check' : 'Vulnerability Scan',
            name: `${integrity ? 'integrity check' : 'vulnerability scan'} of ${packageLabel(record) ?? 'unknown package'}`,
            uid: record.id,
          },
          ...(c.advisories === null ? {} : { num_detections: c.advisories }),
          ...hostAttributes,
        },
      };
    }
    case 'vulnerability-finding': {
      const affected =
        record.package_name === null
          ? {}
          : {
              affected_packages: [
                {
                  name: record.package_name,
                  // affected_package requires a version; an unversioned scan names none
                  version: record.package_version ?? 'unknown',
                },
              ],
            };
      const database = detail(record, 'database');
      const common = {
        severity: SEVERITY_NAMES[c.severity],
        ...affected,
        ...(database === undefined ? {} : { vendor_name: database }),
      };
      const ids = cveIds(record);
      const vulnerabilities =
        ids.length > 0
          ? ids.map((uid) => ({ ...common, title: uid, cve: { uid } }))
          : [
              {
                ...common,
                title: `${c.advisories ?? 'some'} advisories for ${packageLabel(record) ?? 'a package'}`,
              },
            ];
      return {
        cls: CLASSES.vulnerabilityFinding,
        activity: ACTIVITY.create,
        profiles: hostProfile,
        packageMapped: true,
        attributes: {
          status_id: 1,
          status: 'New',
          finding_info: {
            uid: record.id,
            title: summary(record, c),
            types: ['Vulnerability'],
          },
          vulnerabilities,
          ...hostAttributes,
        },
      };
    }
    case 'integrity-failure':
    case 'runtime-protection': {
      const runtime = c.kind === 'runtime-protection';
      const [actionId, action, dispositionId, disposition] = RUNTIME_DECISION[c.action];
      const operation = detail(record, 'operation');
      return {
        cls: CLASSES.detectionFinding,
        activity: ACTIVITY.create,
        profiles: [...hostProfile, ...(runtime ? ['security_control'] : [])],
        packageMapped: false,
        attributes: {
          status_id: 1,
          status: 'New',
          finding_info: {
            uid: record.id,
            title: summary(record, c),
            ...(record.error_message !== null
              ? { desc: record.error_message }
              : operation !== undefined
                ? { desc: operation }
                : {}),
            types: [runtime ? 'Runtime Protection' : 'Integrity Violation'],
          },
          ...(runtime
            ? { action_id: actionId, action, disposition_id: dispositionId, disposition }
            : {}),
          ...hostAttributes,
        },
      };
    }
    case 'configuration-change': {
      return {
        cls: CLASSES.deviceConfigStateChange,
        activity: ACTIVITY.log,
        profiles: who === null ? [] : ['host'],
        packageMapped: false,
        attributes: {
          ...outcome(record),
          // device is required here; a change reported without a source names an unknown device
          device: host ?? { type_id: 0, type: 'Unknown' },
          ...(who === null ? {} : { actor: who }),
        },
      };
    }
  }
}

/** The OCSF 1.3.0 event of `record`, as a plain object (renderOcsf serialises it). */
export function toOcsf(record: AuditEventRecord): Json {
  const c = classify(record);
  const parts = classParts(record, c);
  const [activityId, activityName] = parts.activity;
  const rest = unmapped(record, !parts.packageMapped);
  return {
    activity_id: activityId,
    activity_name: activityName,
    category_uid: parts.cls.categoryUid,
    category_name: parts.cls.categoryName,
    class_uid: parts.cls.uid,
    class_name: parts.cls.name,
    type_uid: parts.cls.uid * 100 + activityId,
    type_name: `${parts.cls.name}: ${activityName}`,
    time: record.timestamp,
    severity_id: c.severity,
    severity: SEVERITY_NAMES[c.severity],
    message: summary(record, c),
    metadata: {
      version: OCSF_VERSION,
      uid: record.id,
      product: {
        name: SIEM_PRODUCT.name,
        vendor_name: SIEM_PRODUCT.vendor,
        version: SIEM_PRODUCT.version,
      },
      ...(parts.profiles.length === 0 ? {} : { profiles: parts.profiles }),
    },
    ...parts.attributes,
    ...(rest === null ? {} : { unmapped: rest }),
  };
}

/** One OCSF 1.3.0 JSON document (no trailing newline). */
export function renderOcsf(record: AuditEventRecord): string {
  return JSON.stringify(toOcsf(record));
}
