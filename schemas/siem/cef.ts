/**
 * The ArcSight CEF rendering of an audit event (pure): one line
 * `CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|Extension`, without
 * a line end (ArcSight Common Event Format, revision 25).
 *
 * Escaping, as the format requires: in the header `\` and `|` get a `\`
 * before them (and a line break, which a header may not hold, becomes a
 * space: the header is a summary, every value is in the extension too); in
 * extension values `\` and `=` get a `\` before them and CR and LF are written
 * `\r` and `\n`, so no value can end the line, start a key or split the
 * header. Values are not otherwise altered: a value that looks like a formula
 * reaches the SIEM as it was recorded (it is evidence, and a CEF reader does
 * not run it).
 *
 * Extension keys are those of the CEF dictionary: rt, externalId, cat, act,
 * outcome, suser, src (IPv4) or c6a2 (IPv6), dvchost, shost, msg, reason,
 * cs1-cs4 and cn1 with their labels. The table is in docs/siem.md.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { AuditEventRecord } from '../event-record.js';
import {
  classify,
  summary,
  type Classified,
  type SiemKind,
  type SiemSeverity,
} from './classify.js';
import { SIEM_PRODUCT } from './product.js';

/** CEF severity (0-10) of each level: Low 0-3, Medium 4-6, High 7-8, Very-High 9-10. */
const CEF_SEVERITY: Readonly<Record<SiemSeverity, number>> = { 1: 1, 2: 3, 3: 5, 4: 8, 5: 10 };

/** `cat` (deviceEventCategory) and `act` (deviceAction) of each kind. */
const CATEGORY: Readonly<Record<SiemKind, string>> = {
  'package-install': 'package',
  'package-uninstall': 'package',
  'package-update': 'package',
  'integrity-check': 'integrity',
  'integrity-failure': 'integrity',
  'audit-access': 'audit-access',
  'vulnerability-scan': 'vulnerability',
  'vulnerability-finding': 'vulnerability',
  'runtime-protection': 'runtime-protection',
  'configuration-change': 'configuration',
};

function action(c: Classified, record: AuditEventRecord): string {
  switch (c.kind) {
    case 'package-install':
      return 'install';
    case 'package-uninstall':
      return 'uninstall';
    case 'package-update':
      return 'update';
    case 'integrity-check':
    case 'integrity-failure':
      return 'check';
    case 'audit-access':
      return record.details['audit_access'] ?? 'access';
    case 'vulnerability-scan':
    case 'vulnerability-finding':
      return 'scan';
    case 'runtime-protection':
      return c.action;
    case 'configuration-change':
      return 'change';
  }
}

/** A header field: `\` and `|` escaped, line breaks as spaces. */
export function escapeCefHeader(value: string): string {
  return value.replace(/[\\|]/gu, (c) => `\\${c}`).replace(/\r\n|[\r\n]/gu, ' ');
}

/** An extension value: `\` and `=` escaped, CR and LF as `\r` and `\n`. */
export function escapeCefValue(value: string): string {
  return value.replace(/[\\=\r\n]/gu, (c) => (c === '\r' ? '\\r' : c === '\n' ? '\\n' : `\\${c}`));
}

/** The SignatureID (deviceEventClassId): the event type; an access record is told apart from integrity checks. */
function signatureId(record: AuditEventRecord, c: Classified): string {
  return c.kind === 'audit-access' ? `${record.event_type}:audit_access` : record.event_type;
}

/** The extension as ordered key/value pairs (values unescaped). */
export function cefExtension(
  record: AuditEventRecord,
  c: Classified = classify(record),
): [string, string][] {
  const ext: [string, string][] = [];
  const put = (key: string, value: string | null | undefined): void => {
    if (value !== null && value !== undefined) ext.push([key, value]);
  };
  const detail = (key: string): string | undefined =>
    Object.hasOwn(record.details, key) ? record.details[key] : undefined;
  put('rt', String(record.timestamp));
  put('externalId', record.id);
  put('cat', CATEGORY[c.kind]);
  put('act', action(c, record));
  put('outcome', record.success ? 'success' : 'failure');
  put('suser', record.user);
  if (record.ip_address !== null && isIPv4(record.ip_address)) put('src', record.ip_address);
  if (record.ip_address !== null && isIPv6(record.ip_address)) {
    put('c6a2', record.ip_address);
    put('c6a2Label', 'Source IPv6 Address');
  }
  if (c.kind === 'audit-access') put('shost', detail('audit_access.from'));
  put('dvchost', record.source);
  put('msg', summary(record, c));
  put('reason', record.error_message);
  if (record.package_name !== null) {
    put('cs1', record.package_name);
    put('cs1Label', 'package');
  }
  if (record.package_version !== null) {
    put('cs2', record.package_version);
    put('cs2Label', 'packageVersion');
  }
  if (Object.keys(record.details).length > 0) {
    put('cs3', JSON.stringify(record.details));
    put('cs3Label', 'details');
  }
  const operation = c.kind === 'runtime-protection' ? detail('operation') : undefined;
  if (operation !== undefined) {
    put('cs4', operation);
    put('cs4Label', 'operation');
  }
  if (c.advisories !== null) {
    put('cn1', String(c.advisories));
    put('cn1Label', 'advisories');
  }
  return ext;
}

/** One CEF line of `record`, without a line end. */
export function renderCef(record: AuditEventRecord): string {
  const c = classify(record);
  const header = [
    'CEF:0',
    SIEM_PRODUCT.vendor,
    SIEM_PRODUCT.name,
    SIEM_PRODUCT.version,
    signatureId(record, c),
    summary(record, c),
    String(CEF_SEVERITY[c.severity]),
  ];
  const extension = cefExtension(record, c)
    .map(([key, value]) => `${key}=${escapeCefValue(value)}`)
    .join(' ');
  return `${header.map((field, i) => (i === 0 ? field : escapeCefHeader(field))).join('|')}|${extension}`;
}
