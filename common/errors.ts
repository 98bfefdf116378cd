/**
 * Every failure the library reports is an `AuditError` with a stable `code`.
 * Callers branch on `code` (or on the subclass), never on the message text.
 *
 * Which code for a mistake: a value the caller gave (an event field, an
 * option, an object key passed in) gets a validation code naming it
 * (INVALID_FIELD, INVALID_OPTION, ...); something that correct code never
 * does — bytes this library produced that contradict themselves, a method
 * called out of order — gets INVALID_STATE. Use after `close()` is CLOSED, not
 * INVALID_STATE: in a server it is an ordinary race of shutdown (a request
 * still arriving while the process stops), which callers branch on.
 *
 * Errors of the servers are mapped at the edge (kafka/errors.ts, the S3
 * store): unreachable or too slow is a retriable UNAVAILABLE; refused
 * credentials or rights are AUTH_FAILED (Kafka) or ACCESS_DENIED (the object
 * store), neither retriable.
 */
export const AuditErrorCode = {
  /** A field of an event has a value that is not allowed; `field` names it. */
  InvalidField: 'INVALID_FIELD',
  /** A field that this event type requires is missing; `field` names it. */
  MissingField: 'MISSING_FIELD',
  /** A field is longer or larger than its documented limit; `field` names it. */
  FieldTooLarge: 'FIELD_TOO_LARGE',
  /** The event type is not one of `AuditEventType`. */
  UnknownEventType: 'UNKNOWN_EVENT_TYPE',
  /** `success` and `error_message` contradict each other. */
  InconsistentOutcome: 'INCONSISTENT_OUTCOME',
  /** Bytes that are not a valid encoding of an audit event. */
  DecodeFailed: 'DECODE_FAILED',
  /** A single-object encoding names a writer schema this process does not know. */
  UnknownSchema: 'UNKNOWN_SCHEMA',
  /** The spool holds damaged records that are not a torn tail. */
  SpoolCorrupt: 'SPOOL_CORRUPT',
  /** Another process holds the spool. */
  SpoolLocked: 'SPOOL_LOCKED',
  /** The spool reached its size limit; nothing was written. */
  SpoolFull: 'SPOOL_FULL',
  /** The trail, spool or store was used after `close()` (see the rule above). */
  Closed: 'CLOSED',
  /** A configuration or option value is invalid; `field` names it. */
  InvalidOption: 'INVALID_OPTION',
  /** An archive object is malformed or does not match its key. */
  ArchiveCorrupt: 'ARCHIVE_CORRUPT',
  /** A read or write of a file or object failed. */
  Io: 'IO_ERROR',
  /** The requested object or file does not exist. */
  NotFound: 'NOT_FOUND',
  /** An operation did not finish within its time limit; what it did so far is kept. */
  Timeout: 'TIMEOUT',
  /** A server (Kafka broker, object store) could not be reached or refused the request. */
  Unavailable: 'UNAVAILABLE',
  /**
   * This writer lost the partition it writes: another member claimed the same
   * batch start with a different range first. Nothing was written.
   */
  Fenced: 'FENCED',
  /** The object store refused the credentials or the request (S3 403: InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied). */
  AccessDenied: 'ACCESS_DENIED',
  /**
   * Kafka refused this client: SASL authentication failed (wrong user name,
   * password or mechanism), or an ACL denies the topic, the group or the
   * cluster operation. Not retriable: the credentials or the ACLs must change.
   * The object store's refusals keep their own code, ACCESS_DENIED, so that
   * the code alone tells which server's credentials to fix.
   */
  AuthFailed: 'AUTH_FAILED',
  /** The configured bucket does not exist. */
  NoSuchBucket: 'NO_SUCH_BUCKET',
  /**
   * A record came after offsets the archiver was not handed (a consumer that
   * fetched on from an older position): it refuses to cover offsets it has not
   * seen, and fetching starts again where the archive ends.
   */
  OffsetGap: 'OFFSET_GAP',
  /** `verify` found the archive altered, incomplete or stale; an export refuses to read it. */
  VerifyFailed: 'VERIFY_FAILED',
  /**
   * A method was called when the object cannot take it (out of order, before
   * its start, bytes the code itself produced are inconsistent): a mistake in
   * the calling code, not in the data or the configuration. Never retriable.
   */
  InvalidState: 'INVALID_STATE',
  /** The in-memory view of the trail was turned off by configuration. */
  NotRetained: 'NOT_RETAINED',
} as const;

export type AuditErrorCode = (typeof AuditErrorCode)[keyof typeof AuditErrorCode];

export interface AuditErrorOptions {
  /** The dotted path of the offending field or option, e.g. `details.reason`. */
  field?: string | undefined;
  /** True when the same call may succeed later without any change by the caller. */
  retriable?: boolean;
  cause?: unknown;
}

export class AuditError extends Error {
  readonly code: AuditErrorCode;
  readonly field: string | undefined;
  readonly retriable: boolean;

  constructor(code: AuditErrorCode, message: string, options: AuditErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AuditError';
    this.code = code;
    this.field = options.field;
    this.retriable = options.retriable ?? false;
  }
}

/** Bad input: the event or value given by the caller. Never retriable. */
export class ValidationError extends AuditError {
  constructor(code: AuditErrorCode, field: string, message: string) {
    super(code, `${field}: ${message}`, { field });
    this.name = 'ValidationError';
  }
}

/** Bytes that cannot be decoded as an audit event. */
export class CodecError extends AuditError {
  constructor(code: AuditErrorCode, message: string, cause?: unknown) {
    super(code, message, { cause });
    this.name = 'CodecError';
  }
}

/** Failures of the spool, the archive or the object store. */
export class StorageError extends AuditError {
  constructor(code: AuditErrorCode, message: string, options: AuditErrorOptions = {}) {
    super(code, message, options);
    this.name = 'StorageError';
  }
}

/** A bad option or setting; `field` names it. */
export class ConfigError extends AuditError {
  constructor(field: string, message: string) {
    super(AuditErrorCode.InvalidOption, `${field}: ${message}`, { field });
    this.name = 'ConfigError';
  }
}

export function isAuditError(value: unknown): value is AuditError {
  return value instanceof AuditError;
}

/** Faults of configuration that no retry heals: a process meeting one should stop and say so. */
export function isConfigurationFault(error: unknown): error is AuditError {
  return (
    error instanceof AuditError &&
    (error.code === AuditErrorCode.AccessDenied ||
      error.code === AuditErrorCode.AuthFailed ||
      error.code === AuditErrorCode.NoSuchBucket ||
      error.code === AuditErrorCode.InvalidOption)
  );
}
