/**
 * Renderers of events for SIEMs (pure): OCSF, ECS and CEF.
 *
 * Placeholder until the renderers land: every format is the export object of
 * the event as JSON.
 */
import type { AuditEventRecord } from '../event-record.js';
import { toExportObject } from '../render.js';

export const SIEM_FORMATS = ['ocsf', 'ecs', 'cef'] as const;
export type SiemFormat = (typeof SIEM_FORMATS)[number];

export function isSiemFormat(value: unknown): value is SiemFormat {
  return typeof value === 'string' && (SIEM_FORMATS as readonly string[]).includes(value);
}

/** The event in `format`, as the text of one Kafka record value. */
export function renderSiem(format: SiemFormat, record: AuditEventRecord): string {
  return JSON.stringify({ format, ...toExportObject(record) });
}
