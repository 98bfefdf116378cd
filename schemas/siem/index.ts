/**
 * Renderings of audit events for SIEMs (pure): OCSF 1.3.0 JSON, ECS 8.11 JSON
 * and ArcSight CEF lines. See docs/siem.md for the mappings.
 */
import { AuditError, AuditErrorCode } from '../../common/errors.js';
import type { AuditEventRecord } from '../event-record.js';
import { renderCef } from './cef.js';
import { renderEcs } from './ecs.js';
import { SIEM_FORMATS, type SiemFormat } from './formats.js';
import { renderOcsf } from './ocsf.js';

export { OCSF_VERSION, toOcsf } from './ocsf.js';
export { ECS_VERSION, toEcs } from './ecs.js';
export { escapeCefHeader, escapeCefValue } from './cef.js';
export { ALERT_OCSF_SEVERITY, renderAlertOcsf, toAlertOcsf } from './alert-ocsf.js';

export { isSiemFormat, SIEM_FORMATS, type SiemFormat } from './formats.js';

/**
 * One event for a SIEM: a JSON document for `ocsf` and `ecs`, one CEF line
 * without a line end for `cef`. A format outside SIEM_FORMATS (from untyped
 * callers) is an INVALID_OPTION error naming it; an `event_type` that is not
 * one of the seven is a ValidationError UNKNOWN_EVENT_TYPE (field `event_type`).
 */
export function renderSiem(format: SiemFormat, record: AuditEventRecord): string {
  switch (format) {
    case 'ocsf':
      return renderOcsf(record);
    case 'ecs':
      return renderEcs(record);
    case 'cef':
      return renderCef(record);
    default:
      throw new AuditError(
        AuditErrorCode.InvalidOption,
        `unknown SIEM format ${JSON.stringify(String(format))} (one of ${SIEM_FORMATS.join(', ')})`,
        { field: 'format' },
      );
  }
}
