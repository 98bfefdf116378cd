/**
 * The boundary between kafkajs and the pipeline: every error a kafkajs call
 * throws becomes an `AuditError` naming the operation, the topic or group and
 * the broker(s), never the credentials.
 *
 * - the broker cannot be reached or does not answer in time (connection
 *   errors, request and metadata timeouts, retries exhausted on those):
 *   UNAVAILABLE, retriable;
 * - SASL authentication failed, or an ACL refuses the topic, group or cluster
 *   operation: AUTH_FAILED, not retriable;
 * - any other refusal of the broker: UNAVAILABLE, retriable when kafkajs says so;
 * - errors that are already an `AuditError` pass through unchanged; anything
 *   else (a bug in the calling code or in the client) is INVALID_STATE.
 */
import { AuditError, AuditErrorCode } from '../common/errors.js';

export interface KafkaErrorContext {
  /**
   * What was being done, as a verb phrase that the topic, when given, ends:
   * `produce to` (+ topic), `read the partitions of` (+ topic), `create topics`.
   */
  operation: string;
  topic?: string | undefined;
  group?: string | undefined;
  /** The configured bootstrap brokers, `host:port`. */
  brokers: readonly string[];
}

/** Broker error types that mean the credentials or the ACLs refuse the request. */
const AUTH_TYPES = new Set([
  'SASL_AUTHENTICATION_FAILED',
  'ILLEGAL_SASL_STATE',
  'UNSUPPORTED_SASL_MECHANISM',
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'DELEGATION_TOKEN_AUTHORIZATION_FAILED',
]);

/** kafkajs error names for a broker that cannot be reached or did not answer in time. */
const UNREACHABLE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSTimeout',
  'KafkaJSLockTimeout',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSGroupCoordinatorNotFound',
]);

/** Node socket and DNS error codes of a server that cannot be reached. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

interface KafkaLike {
  name?: unknown;
  message?: unknown;
  type?: unknown;
  code?: unknown;
  broker?: unknown;
  retriable?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** The error and everything it wraps (cause, aggregated errors), outermost first. */
function chain(error: unknown): KafkaLike[] {
  const found: KafkaLike[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && found.length < 20) {
    const next = queue.shift();
    if (typeof next !== 'object' || next === null || found.includes(next)) continue;
    const e = next as KafkaLike;
    found.push(e);
    queue.push(e.cause);
    if (Array.isArray(e.errors)) queue.push(...(e.errors as unknown[]));
  }
  return found;
}

function isKafkaJs(e: KafkaLike): boolean {
  return typeof e.name === 'string' && e.name.startsWith('KafkaJS');
}

function isAuthFailure(e: KafkaLike): boolean {
  return (
    e.name === 'KafkaJSSASLAuthenticationError' ||
    (typeof e.type === 'string' && AUTH_TYPES.has(e.type))
  );
}

function isUnreachable(e: KafkaLike): boolean {
  return (
    (typeof e.name === 'string' && UNREACHABLE_NAMES.has(e.name)) ||
    (typeof e.code === 'string' && SOCKET_CODES.has(e.code))
  );
}

function describe(context: KafkaErrorContext): string {
  const action =
    context.topic === undefined ? context.operation : `${context.operation} ${context.topic}`;
  return context.group === undefined ? action : `${action}, group ${context.group}`;
}

function brokersOf(context: KafkaErrorContext, errors: KafkaLike[]): string {
  const named = errors.map((e) => e.broker).find((b): b is string => typeof b === 'string');
  const brokers = named !== undefined ? [named] : context.brokers;
  return `Kafka broker${brokers.length === 1 ? '' : 's'} ${brokers.join(', ')}`;
}

function innermostMessage(error: unknown, errors: KafkaLike[]): string {
  const last = errors.at(-1)?.message;
  const message =
    typeof last === 'string' ? last : typeof error === 'string' ? error : 'unknown error';
  return message.replace(/\s+/g, ' ').trim(); // one line, whatever the server sent
}

/** The `AuditError` for an error thrown by a kafkajs call (see the rules above). */
export function kafkaError(error: unknown, context: KafkaErrorContext): AuditError {
  if (error instanceof AuditError) return error;
  const errors = chain(error);
  const what = describe(context);
  const where = brokersOf(context, errors);
  const reason = innermostMessage(error, errors);
  if (errors.some(isAuthFailure)) {
    return new AuditError(
      AuditErrorCode.AuthFailed,
      `${where} refused the client (${what}): ${reason}; check KAFKA_SASL_* and the ACLs`,
      { cause: error },
    );
  }
  if (errors.some(isUnreachable)) {
    return new AuditError(
      AuditErrorCode.Unavailable,
      `cannot reach ${where} (${what}): ${reason}`,
      {
        cause: error,
        retriable: true,
      },
    );
  }
  if (errors.some(isKafkaJs)) {
    // the innermost kafkajs error is the broker's answer; the outer ones only say that retries ended
    const retriable = errors.filter(isKafkaJs).at(-1)?.retriable !== false;
    return new AuditError(AuditErrorCode.Unavailable, `${where} refused to ${what}: ${reason}`, {
      cause: error,
      retriable,
    });
  }
  return new AuditError(
    AuditErrorCode.InvalidState,
    `unexpected error while trying to ${what} on ${where}: ${reason}`,
    { cause: error },
  );
}

/** Runs one kafkajs call and maps what it throws with `kafkaError`. */
export async function kafkaCall<T>(
  context: KafkaErrorContext,
  operation: () => Promise<T>,
): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw kafkaError(error, context);
  }
}
