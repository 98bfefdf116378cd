/**
 * The OCSF rendering of a monitor alert (pure): an OCSF 1.3.0 Detection
 * Finding (2004), activity Create (1). The finding is the alert: its uid is
 * the alert id, its title the rule, its description the alert's message, its
 * type the rule id, and the events that triggered it are its related events.
 * The mapping is in docs/monitor.md.
 */
import type { Alert, AlertSeverity } from '../alert.js';
import { SEVERITY_NAMES, type SiemSeverity } from './classify.js';
import { OCSF_VERSION } from './ocsf.js';
import { SIEM_PRODUCT } from './product.js';

const DETECTION_FINDING = { uid: 2004, name: 'Detection Finding' } as const;
const FINDINGS = { uid: 2, name: 'Findings' } as const;
const CREATE = { id: 1, name: 'Create' } as const;

/** OCSF severity_id of each alert severity: Low 2, Medium 3, High 4, Critical 5. */
export const ALERT_OCSF_SEVERITY: Readonly<Record<AlertSeverity, SiemSeverity>> = {
  low: 2,
  medium: 3,
  high: 4,
  critical: 5,
};

/** The alert as an OCSF 1.3.0 Detection Finding, a plain object (renderAlertOcsf serialises it). */
export function toAlertOcsf(alert: Alert): Record<string, unknown> {
  const severityId = ALERT_OCSF_SEVERITY[alert.severity];
  return {
    activity_id: CREATE.id,
    activity_name: CREATE.name,
    category_uid: FINDINGS.uid,
    category_name: FINDINGS.name,
    class_uid: DETECTION_FINDING.uid,
    class_name: DETECTION_FINDING.name,
    type_uid: DETECTION_FINDING.uid * 100 + CREATE.id,
    type_name: `${DETECTION_FINDING.name}: ${CREATE.name}`,
    time: Date.parse(alert.time),
    severity_id: severityId,
    severity: SEVERITY_NAMES[severityId],
    message: alert.message,
    status_id: 1,
    status: 'New',
    metadata: {
      version: OCSF_VERSION,
      uid: alert.id,
      product: {
        name: SIEM_PRODUCT.name,
        vendor_name: SIEM_PRODUCT.vendor,
        version: SIEM_PRODUCT.version,
      },
    },
    finding_info: {
      uid: alert.id,
      title: `${SIEM_PRODUCT.name} monitor: ${alert.rule}`,
      desc: alert.message,
      types: [alert.rule],
      related_events: alert.event_ids.map((uid) => ({ uid })),
    },
    unmapped: { key: alert.key },
  };
}

/** One OCSF 1.3.0 JSON document of the alert (no trailing newline). */
export function renderAlertOcsf(alert: Alert): string {
  return JSON.stringify(toAlertOcsf(alert));
}
