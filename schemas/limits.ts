/**
 * Size limits of event fields, in UTF-16 code units (JavaScript string length).
 * They keep one event well under a Kafka record's default 1 MiB limit and keep
 * CSV cells readable. Documented in docs/events.md.
 */
export const LIMITS = {
  packageName: 214,
  packageVersion: 128,
  user: 256,
  source: 256,
  errorMessage: 4096,
  detailKey: 128,
  detailValue: 4096,
  detailEntries: 64,
  /** Sum of all detail keys and values. */
  detailsTotal: 32768,
} as const;
