/** A kafkajs client from validated settings, logging through pino. */
import kafkajs, { type Kafka, type LogEntry, type SASLOptions } from 'kafkajs';

// kafkajs is CommonJS: its values come through the default export
const { Kafka: KafkaClient, logLevel } = kafkajs;
import type { Logger } from 'pino';
import type { KafkaSettings } from './settings.js';
import { silentLogger } from '../common/logger.js';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** `logger` receives kafkajs' own warnings and errors; none when absent. */
export function createKafka(settings: KafkaSettings, logger: Logger = silentLogger()): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  return new KafkaClient({
    clientId: settings.clientId,
    brokers: settings.brokers,
    connectionTimeout: settings.connectionTimeoutMs,
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
        log[LEVELS[level] ?? 'info']({ namespace, ...extra }, message);
      },
  });
}
