export { AuditEvent } from './producer/audit-event.js';
export { AuditEventType, AUDIT_EVENT_TYPES, isAuditEventType } from './schemas/event-type.js';
export { AuditTrail, type AuditTrailOptions } from './producer/audit-trail.js';
export { LIMITS } from './schemas/limits.js';
export { validateRecord } from './schemas/validate.js';
export { type EventTransport, LocalTransport } from './producer/transport.js';
export {
  PublisherMetrics,
  type PublisherCounts,
  type TransportCounts,
} from './producer/publisher-metrics.js';
export { processRegistry, type MetricsOptions } from './common/metrics/metrics.js';
export { Spool, SPOOL_DEFAULTS, type SpoolOptions } from './common/spool/spool.js';
export { SpoolReader, type SpoolRecord } from './common/spool/spool-reader.js';
export {
  AuditError,
  AuditErrorCode,
  CodecError,
  ConfigError,
  StorageError,
  ValidationError,
  isAuditError,
} from './common/errors.js';
export { EVENT_FIELDS, type AuditEventRecord } from './schemas/event-record.js';
export { auditEventSchemas, SchemaSet } from './schemas/schema-set.js';
export { crc64Avro, canonicalForm, schemaFingerprint } from './schemas/fingerprint.js';
export { encodeSingleObject, decodeSingleObject } from './schemas/single-object.js';
export { readContainerRecords } from './schemas/container.js';
export { type ObjectStore } from './consumers/object-store/object-store.js';
export { LocalDirStore } from './consumers/object-store/local-dir-store.js';
export { readArchive } from './consumers/exporter/archive-reader.js';
export { type RecordBatches } from './schemas/record-batches.js';
export { type EventFilter, filterRecords, matchesFilter } from './consumers/exporter/filter.js';
export { EXPORT_FORMATS, type ExportFormat } from './schemas/render.js';
export { exportToFile, writeExport } from './schemas/write-export.js';
export {
  isSiemFormat,
  renderAlertOcsf,
  renderSiem,
  SIEM_FORMATS,
  type SiemFormat,
} from './schemas/siem/index.js';
export {
  ALERT_SEVERITIES,
  alertId,
  type Alert,
  type AlertSeverity,
  renderAlertJson,
} from './schemas/alert.js';
