/** A kafkajs client from validated settings, logging through pino. */
import kafkajs, {
  type Admin,
  type Kafka,
  type LogEntry,
  type RetryOptions,
  type SASLOptions,
} from 'kafkajs';

// kafkajs is CommonJS: its values come through the default export
const { Kafka: KafkaClient, logLevel } = kafkajs;
import type { Logger } from 'pino';
import type { KafkaSettings } from './settings.js';
import { silentLogger } from '../common/logger.js';
import { AuditErrorCode, isAuditError } from '../common/errors.js';
import { retry, RETRY_POLICIES, type RetryPolicy } from '../common/retry.js';
import { kafkaError, type KafkaErrorContext } from './errors.js';

/** The bootstrap brokers of each client made here, for error messages. */
const BROKERS = new WeakMap<Kafka, readonly string[]>();

/** The bootstrap brokers of a client made by `createKafka`; empty for another client. */
export function kafkaBrokers(kafka: Kafka): readonly string[] {
  return BROKERS.get(kafka) ?? [];
}

/**
 * kafkajs logs each failed connection and retry itself, several lines per
 * failure; the pipeline reports the same failures once, mapped to a coded
 * error that names the operation and the broker (kafka/errors.ts). So its
 * entries go to pino at debug (AUDIT_LOG_LEVEL=debug shows them).
 */
const KAFKAJS_LEVEL = 'debug';
const KAFKAJS_LEVEL_NAMES: Record<number, string> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** kafkajs' retry options from one of our policies (common/retry.ts). */
export function kafkaRetryOptions(policy: RetryPolicy): RetryOptions {
  return {
    initialRetryTime: policy.initialMs,
    maxRetryTime: policy.maxMs,
    multiplier: policy.factor,
    retries: policy.attempts - 1,
  };
}

export interface CreateKafkaOptions {
  /**
   * kafkajs' own retries of connections and requests, for every client made
   * from this one. Commands that report to a person pass
   * `RETRY_POLICIES.kafkaClient`, so that a broker that is down is reported
   * in about a second. @defaultValue kafkajs' (5 retries, about 15 s in all)
   */
  retry?: RetryPolicy | undefined;
}

/** `logger` receives kafkajs' own entries, at debug; none when absent. */
export function createKafka(
  settings: KafkaSettings,
  logger: Logger = silentLogger(),
  options: CreateKafkaOptions = {},
): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  const kafka = new KafkaClient({
    clientId: settings.clientId,
    brokers: settings.brokers,
    connectionTimeout: settings.connectionTimeoutMs,
    retry: options.retry === undefined ? undefined : kafkaRetryOptions(options.retry),
    requestTimeout: settings.requestTimeoutMs,
    ssl:
      settings.tls === undefined
        ? false
        : {
            ca: settings.tls.ca,
            cert: settings.tls.cert,
            key: settings.tls.key,
            rejectUnauthorized: settings.tls.rejectUnauthorized,
          },
    sasl: settings.sasl as SASLOptions | undefined,
    logLevel: logLevel.WARN,
    // kafkajs' own entries carry no credentials; they go to pino, which redacts known secret fields anyway
    logCreator:
      () =>
      ({ namespace, level, log: entry }: LogEntry) => {
        const { message, ...extra } = entry;
        log[KAFKAJS_LEVEL](
          { namespace, kafkajsLevel: KAFKAJS_LEVEL_NAMES[level], ...extra },
          message,
        );
      },
  });
  BROKERS.set(kafka, [...settings.brokers]);
  return kafka;
}

/**
 * Connects an admin client, runs `work` with it and disconnects; what kafkajs
 * throws on the way becomes an `AuditError` (kafka/errors.ts) naming
 * `operation` and the brokers.
 */
export async function withAdmin<T>(
  kafka: Kafka,
  context: Omit<KafkaErrorContext, 'brokers'>,
  work: (admin: Admin) => Promise<T>,
): Promise<T> {
  const admin = kafka.admin();
  const full = { ...context, brokers: kafkaBrokers(kafka) };
  try {
    await admin.connect();
    return await work(admin);
  } catch (error) {
    throw kafkaError(error, full);
  } finally {
    // a failed disconnect after the work must not hide its result or error; it is logged by kafkajs
    await admin.disconnect().catch((error: unknown) => {
      if (!isKafkaJsError(error)) throw error;
    });
  }
}

function isKafkaJsError(error: unknown): boolean {
  return error instanceof Error && error.name.startsWith('KafkaJS');
}

/**
 * The quick check a long-running member makes before it joins its group: a
 * broker answers, the credentials are accepted and the topics exist. Topic
 * metadata, which any one broker answers: a member started while a partition
 * leader is down still starts (its leader's offsets would not answer until the
 * cluster has elected another).
 */
export async function checkTopics(
  settings: KafkaSettings,
  logger: Logger,
  topics: readonly string[],
  group: string | undefined,
): Promise<void> {
  const check = (): Promise<unknown> =>
    withAdmin(
      createKafka(settings, logger, { retry: RETRY_POLICIES.kafkaClient }),
      { operation: 'read the metadata of', topic: topics.join(', '), group },
      (admin) => admin.fetchTopicMetadata({ topics: [...topics] }),
    );
  // kafkajs asks the broker it connected to first; when that one dies before it answers, a
  // second client connects to one of the others (of a single broker, there is no other)
  await retry(check, {
    attempts: settings.brokers.length > 1 ? 2 : 1,
    initialMs: 0,
    isRetriable: (error) => isAuditError(error) && error.code === AuditErrorCode.Unavailable,
  });
}
