/**
 * The Kafka key of an event (pure). Every event has one, so that a resent
 * event (the same id, after a producer crash or a re-run of a file) lands on
 * the partition that saw it first, where the archiver's duplicate window sees
 * it:
 *
 * - the package name when the event has one: one package, one partition, so
 *   per-package order is kept;
 * - else the source (the emitting host or installer): its package-less events
 *   (configuration changes, scans of the whole host) keep their order;
 * - else the event id, which a resend carries unchanged.
 *
 * The key decides the partition only as long as the topic keeps its number of
 * partitions: adding partitions moves keys, as for any keyed Kafka topic.
 */
import type { AuditEventRecord } from '../schemas/event-record.js';

export function kafkaKeyFor(
  record: Pick<AuditEventRecord, 'id' | 'package_name' | 'source'>,
): string {
  return record.package_name ?? record.source ?? record.id;
}
