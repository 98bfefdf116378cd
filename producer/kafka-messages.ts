/**
 * The Kafka message of a spooled event (pure): the key, the single-object
 * bytes as value, the append time as timestamp, and two headers, the event
 * type and the writer-schema fingerprint (hex), so that a consumer can route
 * or skip a record without decoding it.
 *
 * Messages are built once per event, in the form kafkajs encodes without
 * converting: a string timestamp, and headers objects shared by every message
 * of one event type and writer schema (kafkajs only reads them), instead of a
 * headers object, a fingerprint string and a timestamp string per message.
 */
export const HEADER_EVENT_TYPE = 'event_type';
export const HEADER_SCHEMA_FINGERPRINT = 'schema_fingerprint';

export type MessageHeaders = Readonly<Record<string, string>>;

/** A kafkajs `Message` as the shipper sends it. */
export interface OutgoingMessage {
  key: string;
  value: Buffer;
  timestamp: string;
  headers: MessageHeaders;
}

/** Where the fingerprint sits in a single-object encoding (after the C3 01 marker). */
const FINGERPRINT_START = 2;
const FINGERPRINT_END = 10;
/** Event types and schemas are few; past this many headers objects the cache starts over. */
const MAX_HEADERS = 256;

export class MessageBuilder {
  private readonly fingerprint = Buffer.alloc(FINGERPRINT_END - FINGERPRINT_START);
  private fingerprintHex = '';
  /** Headers objects by event type, for the fingerprint above. */
  private headers = new Map<string, MessageHeaders>();
  private time = Number.NaN;
  private timestamp = '';

  message(key: string, value: Buffer, eventType: string, appendTime: number): OutgoingMessage {
    if (appendTime !== this.time) {
      this.time = appendTime;
      this.timestamp = String(appendTime);
    }
    return { key, value, timestamp: this.timestamp, headers: this.headersFor(value, eventType) };
  }

  private headersFor(value: Buffer, eventType: string): MessageHeaders {
    if (!this.sameFingerprint(value)) {
      value.copy(this.fingerprint, 0, FINGERPRINT_START, FINGERPRINT_END);
      this.fingerprintHex = this.fingerprint.toString('hex');
      this.headers = new Map();
    }
    let headers = this.headers.get(eventType);
    if (headers === undefined) {
      if (this.headers.size >= MAX_HEADERS) this.headers = new Map();
      headers = Object.freeze({
        [HEADER_EVENT_TYPE]: eventType,
        [HEADER_SCHEMA_FINGERPRINT]: this.fingerprintHex,
      });
      this.headers.set(eventType, headers);
    }
    return headers;
  }

  private sameFingerprint(value: Buffer): boolean {
    if (this.fingerprintHex === '') return false;
    for (let i = 0; i < this.fingerprint.length; i++)
      if (value[FINGERPRINT_START + i] !== this.fingerprint[i]) return false;
    return true;
  }
}
