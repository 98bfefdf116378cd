/**
 * Records the SIEM rendering tests run through: a simulated fleet's events of
 * every type and outcome, access records of each kind, and hand-made records
 * with edge cases and hostile values. Every one passes validateRecord, so each
 * is an event the trail can really hold.
 */
import { InstallerSimulation } from '../../cli/simulator.js';
import { AuditError, AuditErrorCode } from '../../common/errors.js';
import { accessRecord } from '../../consumers/exporter/access-record.js';
import { parseFilter } from '../../consumers/exporter/filter.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { validateRecord } from '../../schemas/validate.js';
import { record } from '../helpers.js';

const STARTED = new Date(Date.UTC(2026, 10, 29, 4, 0, 0, 250));

export function simulatedRecords(count = 3000): AuditEventRecord[] {
  const simulation = new InstallerSimulation(42, Date.UTC(2026, 0, 1));
  return Array.from({ length: count }, () => simulation.next().toRecord());
}

export function accessRecords(): AuditEventRecord[] {
  const filter = parseFilter({ package: 'left-pad', type: ['PackageInstall'] });
  const counts = {
    objectsListed: 4,
    objectsSelected: 2,
    objectsSkipped: 0,
    objectsRead: 2,
    eventsMatched: 9,
  };
  return [
    accessRecord({
      who: 'ada',
      from: '192.0.2.10',
      channel: 'http',
      format: 'csv',
      filter,
      counts,
      startedAt: STARTED,
    }),
    accessRecord({
      who: 'auditor',
      from: 'laptop.example.org',
      channel: 'request',
      format: 'ndjson',
      filter,
      requestId: '0190b6a2-7c3e-7d4a-9b1e-2f3a4b5c6d7e',
      counts,
      verification: {
        configured: true,
        verified: 1,
        pending: [],
        failed: [{ key: 'a/b.avro', detail: 'hash' }],
      },
      error: new AuditError(AuditErrorCode.VerifyFailed, 'a/b.avro does not verify'),
      startedAt: STARTED,
      source: 'exporter-1',
    }),
    accessRecord({
      who: 'root',
      channel: 'cli',
      format: 'json',
      filter: parseFilter({}),
      error: new AuditError(AuditErrorCode.Unavailable, 'S3 down'),
      startedAt: STARTED,
    }),
  ];
}

/** Hand-made records: every type, failures, missing optional fields, CVE ids, IPv6. */
export function edgeRecords(): AuditEventRecord[] {
  const bare = { user: null, ip_address: null, source: null, details: {} };
  return [
    record({ event_type: 'PackageUninstall', ...bare }),
    record({
      event_type: 'PackageUpdate',
      package_version: null,
      details: { from_version: '1.0.0' },
    }),
    record({ event_type: 'IntegrityCheck', package_name: null, package_version: null, ...bare }),
    record({
      event_type: 'IntegrityCheck',
      success: false,
      error_message: 'integrity checksum mismatch',
      ip_address: '2001:db8::7',
    }),
    record({
      event_type: 'VulnerabilityScan',
      details: {
        advisories: '2',
        max_severity: 'critical',
        database: 'osv',
        cves: 'CVE-2024-1234, CVE-2023-99999 x',
      },
    }),
    record({ event_type: 'VulnerabilityScan', details: { max_severity: 'high' } }),
    record({
      event_type: 'VulnerabilityScan',
      package_version: null,
      details: { advisories: '1' },
    }),
    record({
      event_type: 'VulnerabilityScan',
      success: false,
      error_message: 'osv unreachable',
      details: {},
    }),
    record({
      event_type: 'RuntimeProtection',
      details: { action: 'blocked', operation: 'child_process.spawn' },
    }),
    record({ event_type: 'RuntimeProtection', details: {} }),
    record({
      event_type: 'RuntimeProtection',
      success: false,
      error_message: 'hook not installed',
      details: { action: 'allowed' },
    }),
    record({
      event_type: 'ConfigurationChange',
      package_name: null,
      package_version: null,
      ...bare,
    }),
    record({
      event_type: 'ConfigurationChange',
      package_name: null,
      package_version: null,
      success: false,
      error_message: 'permission denied',
      details: { setting: 'audit.level', old_value: 'strict', new_value: 'off' },
    }),
  ].map((r) => validateRecord(r));
}

/** Values meant to break a line, a header, a key or a spreadsheet. */
export function hostileRecords(): AuditEventRecord[] {
  return [
    record({
      event_type: 'RuntimeProtection',
      package_name: 'evil|pkg\\=x',
      user: '=HYPERLINK("http://203.0.113.9/x","update")|a\\b=c',
      source: 'host|x\\',
      error_message: 'line one\r\n=2+3 cs1=forged\\ x=y | z\\',
      success: false,
      details: {
        action: 'blocked',
        operation: '\n@SUM(1)\\ rt=0',
        'k=v|x': '+cmd|"/c calc"!A0\\',
        'audit.level': '-1\r',
        literal: 'a\\nb\\rc\\=d',
      },
    }),
    record({
      event_type: 'ConfigurationChange',
      package_name: null,
      package_version: null,
      user: '\\',
      details: { setting: 'a\nb|c\\', old_value: '=', new_value: '\\' },
    }),
    record({
      event_type: 'PackageInstall',
      package_name: 'a=b',
      details: { 'a.b': '1', a_b: '2', 'a-b': '3' },
    }),
  ].map((r) => validateRecord(r));
}

export function allRecords(): AuditEventRecord[] {
  return [...simulatedRecords(), ...accessRecords(), ...edgeRecords(), ...hostileRecords()];
}
