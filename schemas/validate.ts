/**
 * The validator of audit event records: pure, one rule per field, each failure a
 * ValidationError naming the field by its record (snake_case) name.
 */
import { isIP } from 'node:net';
import { AuditErrorCode, ValidationError } from '../common/errors.js';
import type { AuditEventRecord } from './event-record.js';
import { isAuditEventType, PACKAGE_EVENT_TYPES } from './event-type.js';
import { LIMITS } from './limits.js';

/** C0 controls (NUL included), DEL and the C1 controls U+0080 to U+009F. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The same, except tab, line feed and carriage return (multi-line fields). */
const CONTROL_EXCEPT_WHITESPACE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/**
 * A lone surrogate: in `u` mode a well-formed pair is one code point and does not
 * match. Such a string has no UTF-8 form; other Avro readers cannot decode it.
 */
const LONE_SURROGATE = /[\ud800-\udfff]/u;

/**
 * Detail keys that JavaScript objects treat as their prototype: readers that
 * build objects by assignment (decoders, `JSON.parse` + spread, many tools)
 * drop or misread them, so such an event could not be kept exactly.
 */
const RESERVED_DETAIL_KEYS = new Set(['__proto__']);

/** A key as JSON with C1 controls escaped too, safe to print in a message. */
function printable(text: string): string {
  return JSON.stringify(text).replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * True when no character of `text` is a control character (C0, DEL, C1) or a
 * surrogate: what nearly every value is, found in one pass without a regex.
 * Otherwise the regexes above decide.
 */
function plainCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return true;
}

/** True when every character of `text` is printable ASCII other than space: no `\s` can match it. */
function printableAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/** True when `id` is a lower-case UUID (8-4-4-4-12 digits 0-9 and a-f), checked one character at a time. */
export function isLowerCaseUuid(id: string): boolean {
  if (id.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = id.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 0x2d) return false;
    } else if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/** Refuses what cannot be stored exactly: lone surrogates, and control characters. */
function checkCharacters(field: string, value: string, multiline: boolean): void {
  if (plainCharacters(value)) return;
  if (LONE_SURROGATE.test(value))
    fail(AuditErrorCode.InvalidField, field, 'is not well-formed Unicode (a lone surrogate)');
  if ((multiline ? CONTROL_EXCEPT_WHITESPACE : CONTROL).test(value)) {
    fail(
      AuditErrorCode.InvalidField,
      field,
      multiline
        ? 'must not contain control characters other than tab, CR and LF'
        : 'must not contain control characters',
    );
  }
}
/**
 * A plausible version across ecosystems: optional epoch (`1:`), optional `v`,
 * a number, then letters, digits and the separators `. - + ~ _`
 * (semver `1.2.3-rc.1+b5`, PEP 440 `2.0rc1.post1`, Debian `1:2.3-4~bpo1`).
 */
const VERSION = /^(\d+:)?v?\d+[0-9A-Za-z.+~_-]*$/;
/** Earliest and latest accepted timestamps: the epoch and the end of year 9999. */
const MIN_TIME = 0;
const MAX_TIME = 253402300799999;

function fail(
  code: (typeof AuditErrorCode)[keyof typeof AuditErrorCode],
  field: string,
  message: string,
): never {
  throw new ValidationError(code, field, message);
}

/** A non-empty, bounded string without control characters (or, with `multiline`, only tab/newline). */
export function checkText(field: string, value: unknown, max: number, multiline = false): string {
  if (typeof value !== 'string')
    fail(AuditErrorCode.InvalidField, field, `must be a string, got ${typeof value}`);
  if (value.length === 0) fail(AuditErrorCode.InvalidField, field, 'must not be empty');
  if (value.trim().length === 0) fail(AuditErrorCode.InvalidField, field, 'must not be blank');
  if (value.length > max)
    fail(AuditErrorCode.FieldTooLarge, field, `is ${value.length} characters, the limit is ${max}`);
  checkCharacters(field, value, multiline);
  return value;
}

export function checkPackageName(value: unknown): string {
  const name = checkText('package_name', value, LIMITS.packageName);
  if (!printableAscii(name) && /\s/.test(name))
    fail(AuditErrorCode.InvalidField, 'package_name', 'must not contain whitespace');
  return name;
}

export function checkPackageVersion(value: unknown): string {
  const version = checkText('package_version', value, LIMITS.packageVersion);
  if (!VERSION.test(version)) {
    fail(
      AuditErrorCode.InvalidField,
      'package_version',
      `"${version}" is not a plausible version string`,
    );
  }
  return version;
}

export function checkIpAddress(value: unknown): string {
  if (typeof value !== 'string' || isIP(value) === 0) {
    fail(
      AuditErrorCode.InvalidField,
      'ip_address',
      `${JSON.stringify(value)} is not an IPv4 or IPv6 address`,
    );
  }
  return value;
}

export function checkTimestamp(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    fail(AuditErrorCode.InvalidField, 'timestamp', 'must be a valid date (integer milliseconds)');
  }
  if (value < MIN_TIME || value > MAX_TIME) {
    fail(AuditErrorCode.InvalidField, 'timestamp', 'must lie between 1970-01-01 and 9999-12-31');
  }
  return value;
}

export function checkDetail(key: unknown, value: unknown): void {
  if (typeof key !== 'string' || key.length === 0)
    fail(AuditErrorCode.InvalidField, 'details', 'keys must be non-empty strings');
  if (!plainCharacters(key) && (LONE_SURROGATE.test(key) || CONTROL.test(key))) {
    fail(
      AuditErrorCode.InvalidField,
      'details',
      `key ${printable(key)} must be well-formed Unicode without control characters`,
    );
  }
  // the field's name only when it is named in an error: most details pass
  if (RESERVED_DETAIL_KEYS.has(key)) {
    fail(
      AuditErrorCode.InvalidField,
      `details.${key}`,
      'is reserved: JavaScript readers treat it as the prototype, so it could not be kept exactly',
    );
  }
  if (key.length > LIMITS.detailKey) {
    fail(
      AuditErrorCode.FieldTooLarge,
      `details.${key}`,
      `key is ${key.length} characters, the limit is ${LIMITS.detailKey}`,
    );
  }
  if (typeof value !== 'string')
    fail(AuditErrorCode.InvalidField, `details.${key}`, `must be a string, got ${typeof value}`);
  if (value.length > LIMITS.detailValue) {
    fail(
      AuditErrorCode.FieldTooLarge,
      `details.${key}`,
      `is ${value.length} characters, the limit is ${LIMITS.detailValue}`,
    );
  }
  if (!plainCharacters(value)) checkCharacters(`details.${key}`, value, true);
}

export function checkDetails(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(AuditErrorCode.InvalidField, 'details', 'must be an object of string values');
  }
  const details = value as Record<string, unknown>;
  // the keys only, not an array per entry: this runs for every event
  const keys = Object.keys(details);
  if (keys.length > LIMITS.detailEntries) {
    fail(
      AuditErrorCode.FieldTooLarge,
      'details',
      `has ${keys.length} entries, the limit is ${LIMITS.detailEntries}`,
    );
  }
  let total = 0;
  for (const k of keys) {
    const v = details[k];
    checkDetail(k, v);
    total += k.length + (v as string).length;
  }
  if (total > LIMITS.detailsTotal) {
    fail(
      AuditErrorCode.FieldTooLarge,
      'details',
      `holds ${total} characters, the limit is ${LIMITS.detailsTotal}`,
    );
  }
  return value as Record<string, string>;
}

function optional<T>(value: unknown, check: (v: unknown) => T): T | null {
  return value === null || value === undefined ? null : check(value);
}

/**
 * Checks a whole record; throws the first ValidationError found. Returns the
 * same record, so that a caller can validate and pass on in one expression.
 */
export function validateRecord(record: AuditEventRecord): AuditEventRecord {
  if (typeof record !== 'object' || record === null)
    fail(AuditErrorCode.InvalidField, 'event', 'must be an object');
  if (typeof record.id !== 'string' || !isLowerCaseUuid(record.id)) {
    fail(
      AuditErrorCode.InvalidField,
      'id',
      `${JSON.stringify(record.id)} is not a lower-case UUID`,
    );
  }
  checkTimestamp(record.timestamp);
  if (!isAuditEventType(record.event_type)) {
    fail(
      AuditErrorCode.UnknownEventType,
      'event_type',
      `${JSON.stringify(record.event_type)} is not a known event type`,
    );
  }
  const packageName = optional(record.package_name, checkPackageName);
  if (packageName === null && PACKAGE_EVENT_TYPES.has(record.event_type)) {
    fail(AuditErrorCode.MissingField, 'package_name', `is required for ${record.event_type}`);
  }
  optional(record.package_version, checkPackageVersion);
  optional(record.user, (v) => checkText('user', v, LIMITS.user));
  optional(record.ip_address, checkIpAddress);
  checkDetails(record.details);
  if (typeof record.success !== 'boolean')
    fail(AuditErrorCode.InvalidField, 'success', 'must be a boolean');
  const errorMessage = optional(record.error_message, (v) =>
    checkText('error_message', v, LIMITS.errorMessage, true),
  );
  if (!record.success && errorMessage === null) {
    fail(AuditErrorCode.InconsistentOutcome, 'error_message', 'is required when success is false');
  }
  if (record.success && errorMessage !== null) {
    fail(
      AuditErrorCode.InconsistentOutcome,
      'error_message',
      'must be absent when success is true',
    );
  }
  optional(record.source, (v) => checkText('source', v, LIMITS.source));
  return record;
}
