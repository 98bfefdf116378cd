/**
 * The ECS rendering of an audit event (pure): one JSON document of Elastic
 * Common Schema 8.11 fields (https://www.elastic.co/guide/en/ecs/8.11/).
 *
 * `event.kind` / `event.category` / `event.type` follow ECS's categorisation
 * (each type is one the category expects); `event.action` names our event type;
 * `event.outcome` is `success` or `failure`. The `details` map goes into
 * `labels` (keyword values, keys with every character outside `[A-Za-z0-9_]`
 * written as `_`, because a dot in a key would make Elasticsearch expand
 * `audit_access.channel` into an object that collides with the keyword
 * `audit_access`); `event.original` keeps the whole event as the JSON export
 * writes it, so that nothing the label keys change is lost. The table is in
 * docs/siem.md.
 */
import type { AuditEventRecord } from '../event-record.js';
import { toExportObject } from '../render.js';
import { classify, summary, type Classified, type SiemKind } from './classify.js';
import { SIEM_PRODUCT } from './product.js';

/** The ECS version the rendering targets, written in every document's `ecs.version`. */
export const ECS_VERSION = '8.11.0';

/** `event.dataset` and `event.module` of every document. */
export const ECS_DATASET = 'audit_trail.events';
export const ECS_MODULE = 'audit_trail';

type Json = Record<string, unknown>;

/** `event.action` of each kind: our event type in ECS's kebab-case. */
const ACTIONS: Readonly<Record<SiemKind, string>> = {
  'package-install': 'package-install',
  'package-uninstall': 'package-uninstall',
  'package-update': 'package-update',
  'integrity-check': 'integrity-check',
  'integrity-failure': 'integrity-check',
  'audit-access': 'audit-access',
  'vulnerability-scan': 'vulnerability-scan',
  'vulnerability-finding': 'vulnerability-scan',
  'runtime-protection': 'runtime-protection',
  'configuration-change': 'configuration-change',
};

interface Categorisation {
  kind: 'event' | 'alert';
  category: string[];
  type: string[];
}

function categorise(c: Classified): Categorisation {
  switch (c.kind) {
    case 'package-install':
      return { kind: 'event', category: ['package'], type: ['installation'] };
    case 'package-uninstall':
      return { kind: 'event', category: ['package'], type: ['deletion'] };
    case 'package-update':
      return { kind: 'event', category: ['package'], type: ['change'] };
    case 'integrity-check':
      return { kind: 'event', category: ['package'], type: ['info'] };
    case 'integrity-failure':
      return { kind: 'alert', category: ['package', 'intrusion_detection'], type: ['info'] };
    case 'audit-access':
      return { kind: 'event', category: ['database'], type: ['access'] };
    case 'vulnerability-scan':
      return { kind: 'event', category: ['package', 'vulnerability'], type: ['info'] };
    case 'vulnerability-finding':
      return { kind: 'alert', category: ['package', 'vulnerability'], type: ['info'] };
    case 'runtime-protection': {
      const type = c.action === 'allowed' ? 'allowed' : c.action === 'unknown' ? 'info' : 'denied';
      return {
        kind: c.action === 'allowed' ? 'event' : 'alert',
        category: ['intrusion_detection'],
        type: [type],
      };
    }
    case 'configuration-change':
      return { kind: 'event', category: ['configuration'], type: ['change'] };
  }
}

/** A `labels` key: every character outside `[A-Za-z0-9_]` as `_`; a clash gets `_2`, `_3`, ... in key order. */
export function labelKeys(keys: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set<string>();
  for (const key of [...keys].sort()) {
    const base = key.replace(/[^A-Za-z0-9_]/gu, '_');
    let label = base;
    for (let n = 2; used.has(label); n++) label = `${base}_${n}`;
    used.add(label);
    out.set(key, label);
  }
  return out;
}

/** The ECS document of `record`, as a plain object (renderEcs serialises it). */
export function toEcs(record: AuditEventRecord): Json {
  const c = classify(record);
  const cat = categorise(c);
  const details = record.details;
  const labels: Record<string, string> = {};
  for (const [key, label] of labelKeys(Object.keys(details))) labels[label] = details[key] ?? '';
  const detail = (key: string): string | undefined =>
    Object.hasOwn(details, key) ? details[key] : undefined;
  const from = c.kind === 'audit-access' ? detail('audit_access.from') : undefined;
  const errorCode = c.kind === 'audit-access' ? detail('audit_access.error_code') : undefined;
  const operation = c.kind === 'runtime-protection' ? detail('operation') : undefined;
  const packageFields =
    record.package_name === null
      ? {}
      : {
          package: {
            name: record.package_name,
            ...(record.package_version === null ? {} : { version: record.package_version }),
          },
        };
  const vulnerability =
    c.kind === 'vulnerability-finding'
      ? {
          vulnerability: {
            category: ['package'],
            ...(detail('max_severity') === undefined ? {} : { severity: detail('max_severity') }),
            ...(detail('database') === undefined
              ? {}
              : { scanner: { vendor: detail('database') } }),
          },
        }
      : {};
  return {
    '@timestamp': new Date(record.timestamp).toISOString(),
    ecs: { version: ECS_VERSION },
    message: summary(record, c),
    event: {
      kind: cat.kind,
      category: cat.category,
      type: cat.type,
      action: ACTIONS[c.kind],
      outcome: record.success ? 'success' : 'failure',
      id: record.id,
      dataset: ECS_DATASET,
      module: ECS_MODULE,
      provider: SIEM_PRODUCT.name,
      severity: c.severity,
      ...(operation === undefined ? {} : { reason: operation }),
      original: JSON.stringify(toExportObject(record)),
    },
    ...packageFields,
    ...(record.user === null ? {} : { user: { name: record.user } }),
    ...(record.ip_address === null && from === undefined
      ? {}
      : {
          source: {
            ...(record.ip_address === null ? {} : { ip: record.ip_address }),
            ...(from === undefined ? {} : { domain: from }),
          },
        }),
    ...(record.source === null ? {} : { host: { name: record.source } }),
    ...(record.error_message === null && errorCode === undefined
      ? {}
      : {
          error: {
            ...(record.error_message === null ? {} : { message: record.error_message }),
            ...(errorCode === undefined ? {} : { code: errorCode }),
          },
        }),
    ...vulnerability,
    ...(Object.keys(labels).length === 0 ? {} : { labels }),
  };
}

/** One ECS 8.11 JSON document (no trailing newline). */
export function renderEcs(record: AuditEventRecord): string {
  return JSON.stringify(toEcs(record));
}
