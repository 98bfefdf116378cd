/**
 * An audit event and its fluent builder. Each `with*` method checks its own
 * argument at once (a ValidationError names the field); rules that join two
 * fields, such as `success` against `errorMessage`, are checked by `validate()`,
 * which `AuditTrail.addEvent` calls.
 */
import { AuditErrorCode, ValidationError } from '../common/errors.js';
import type { AuditEventRecord } from '../schemas/event-record.js';
import { type AuditEventType, isAuditEventType } from '../schemas/event-type.js';
import { LIMITS } from '../schemas/limits.js';
import { newEventId } from './event-id.js';
import {
  checkDetail,
  checkDetails,
  checkIpAddress,
  checkPackageName,
  checkPackageVersion,
  checkText,
  checkTimestamp,
  validateRecord,
} from '../schemas/validate.js';

export class AuditEvent {
  /** UUID version 7, generated when the event is created. */
  readonly id: string;
  readonly eventType: AuditEventType;
  timestamp: Date;
  packageName: string | undefined;
  packageVersion: string | undefined;
  user: string | undefined;
  ipAddress: string | undefined;
  details: Record<string, string> = {};
  /** @defaultValue true */
  success = true;
  errorMessage: string | undefined;
  /** The emitting host or installer id; `AuditTrail` fills in its own `source` when unset. */
  source: string | undefined;

  constructor(eventType: AuditEventType, id: string = newEventId(), timestamp: Date = new Date()) {
    if (!isAuditEventType(eventType)) {
      throw new ValidationError(
        AuditErrorCode.UnknownEventType,
        'event_type',
        `${JSON.stringify(eventType)} is not a known event type`,
      );
    }
    this.eventType = eventType;
    this.id = id;
    this.timestamp = timestamp;
  }

  withPackageName(name: string): this {
    this.packageName = checkPackageName(name);
    return this;
  }

  withPackageVersion(version: string): this {
    this.packageVersion = checkPackageVersion(version);
    return this;
  }

  withUser(user: string): this {
    this.user = checkText('user', user, LIMITS.user);
    return this;
  }

  withIpAddress(ip: string): this {
    this.ipAddress = checkIpAddress(ip);
    return this;
  }

  withDetail(key: string, value: string): this {
    checkDetail(key, value);
    checkDetails({ ...this.details, [key]: value });
    this.details = { ...this.details, [key]: value };
    return this;
  }

  withDetails(details: Record<string, string>): this {
    const merged = { ...this.details, ...details };
    checkDetails(merged);
    this.details = merged;
    return this;
  }

  withSuccess(success: boolean): this {
    if (typeof success !== 'boolean') {
      throw new ValidationError(AuditErrorCode.InvalidField, 'success', 'must be a boolean');
    }
    this.success = success;
    return this;
  }

  withErrorMessage(message: string): this {
    this.errorMessage = checkText('error_message', message, LIMITS.errorMessage, true);
    return this;
  }

  withTimestamp(timestamp: Date): this {
    if (!(timestamp instanceof Date)) {
      throw new ValidationError(AuditErrorCode.InvalidField, 'timestamp', 'must be a Date');
    }
    checkTimestamp(timestamp.getTime());
    this.timestamp = timestamp;
    return this;
  }

  withSource(source: string): this {
    this.source = checkText('source', source, LIMITS.source);
    return this;
  }

  /** Checks every field and the rules between fields; throws a ValidationError. */
  validate(): this {
    validateRecord(this.toRecord());
    return this;
  }

  /** The Avro/export shape of the event (snake_case, milliseconds). */
  toRecord(): AuditEventRecord {
    return {
      id: this.id,
      timestamp: this.timestamp instanceof Date ? this.timestamp.getTime() : Number.NaN,
      event_type: this.eventType,
      package_name: this.packageName ?? null,
      package_version: this.packageVersion ?? null,
      user: this.user ?? null,
      ip_address: this.ipAddress ?? null,
      details: { ...this.details },
      success: this.success,
      error_message: this.errorMessage ?? null,
      source: this.source ?? null,
    };
  }

  /** Rebuilds an event from its record shape; validates it first. */
  static fromRecord(record: AuditEventRecord): AuditEvent {
    validateRecord(record);
    const event = new AuditEvent(
      record.event_type as AuditEventType,
      record.id,
      new Date(record.timestamp),
    );
    event.packageName = record.package_name ?? undefined;
    event.packageVersion = record.package_version ?? undefined;
    event.user = record.user ?? undefined;
    event.ipAddress = record.ip_address ?? undefined;
    event.details = { ...record.details };
    event.success = record.success;
    event.errorMessage = record.error_message ?? undefined;
    event.source = record.source ?? undefined;
    return event;
  }
}
