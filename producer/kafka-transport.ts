/**
 * The Kafka transport: events go to the local spool first, and a shipper sends
 * them from there to the topic, in spool order, with an idempotent producer
 * (acks=all). While the broker is unreachable they stay on disk and the shipper
 * retries with backoff; they are shipped in order when it comes back.
 *
 * Shipping: one produce request at a time, each started as soon as the
 * previous one is acknowledged (kafkajs's idempotent producer holds one request
 * per broker anyway, and a second request queued behind a failed one would take
 * its sequence numbers and land before its resend: per-partition order needs
 * the next batch to wait). A full batch goes at once; `lingerMs` only lets a
 * partial batch form when the shipper was idle. The events this process
 * appended are sent from memory as the messages built when they were encoded
 * (kafka-messages.ts; up to `keepInMemoryBytes`); others (an earlier run's backlog,
 * a long outage) are read back from the spool, and their key and event type
 * read with a projection of the schema instead of a full decode.
 *
 * Progress is a checkpoint file (`SHIPPED`, the next spool offset to send) in
 * the spool folder, written in the background after acknowledgements (see
 * ship-checkpoint.ts). A crash before the checkpoint holds an acknowledged batch
 * sends that batch again after restart: the same event ids on new offsets,
 * which the archiver drops as duplicates.
 *
 * Memory is bounded by `keepInMemoryBytes` plus one batch; the spool on disk is
 * bounded by `spool.maxBytes` (SPOOL_FULL when reached).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs, { type CompressionTypes, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { AuditError, AuditErrorCode, ConfigError } from '../common/errors.js';
import { silentLogger } from '../common/logger.js';
import { nonEmptyOption, oneOfOption, positiveIntegerOption } from '../common/options.js';
import { TOPIC_DEFAULTS } from '../kafka/topics.js';
import { RETRY_POLICIES, retry } from '../common/retry.js';
import { AcknowledgedPartitions } from '../kafka/acknowledged-partitions.js';
import { kafkaBrokers } from '../kafka/client.js';
import { keyPartitioner } from '../kafka/partitioner.js';
import { kafkaError } from '../kafka/errors.js';
import type { AuditEventRecord } from '../schemas/event-record.js';
import { auditEventSchemas, type SchemaSet } from '../schemas/schema-set.js';
import { KeyFieldsReader } from '../schemas/key-fields.js';
import { Spool, type SpoolOptions } from '../common/spool/spool.js';
import { SpoolReader, type SpoolRecord } from '../common/spool/spool-reader.js';
import { listSegments } from '../common/spool/segments.js';
import type { EventTransport } from './transport.js';
import type { TransportCounts } from './publisher-metrics.js';
import { kafkaKeyFor } from './kafka-key.js';
import { MessageBuilder, type OutgoingMessage } from './kafka-messages.js';
import { KeptRecords } from './kept-records.js';
import { ShipCheckpoint } from './ship-checkpoint.js';

export { HEADER_EVENT_TYPE, HEADER_SCHEMA_FINGERPRINT } from './kafka-messages.js';

export interface KafkaTransportOptions {
  kafka: Kafka;
  /** Spool folder of this producer; one per process. */
  spoolDir: string;
  spool?: Omit<SpoolOptions, 'dir'>;
  /** @defaultValue 'audit.events' */
  topic?: string;
  /** Events per produce request. @defaultValue 2000 */
  batchMaxEvents?: number;
  /** Encoded bytes per produce request (before compression). @defaultValue 1 MiB */
  batchMaxBytes?: number;
  /**
   * How long an idle shipper waits for more events before sending a partial
   * batch; a full batch, or the next one after an acknowledgement, goes at once. @defaultValue 10
   */
  lingerMs?: number;
  /**
   * Encoded bytes of unacknowledged events kept in memory, so that the shipper
   * sends them without reading the spool back; beyond it they are read from the
   * spool. @defaultValue 16 MiB
   */
  keepInMemoryBytes?: number;
  /** @defaultValue 'gzip' */
  compression?: 'gzip' | 'none';
  /** Broker acknowledgement timeout of one produce request. @defaultValue 30000 */
  ackTimeoutMs?: number;
  /**
   * How long `close()` waits for the broker to acknowledge pending events;
   * what is still pending then stays in the spool for the next run. @defaultValue 30000
   */
  closeTimeoutMs?: number;
  logger?: Logger;
  schemas?: SchemaSet;
}

export const KAFKA_TRANSPORT_DEFAULTS = {
  topic: TOPIC_DEFAULTS.eventsTopic,
  batchMaxEvents: 2000,
  batchMaxBytes: 1024 * 1024,
  lingerMs: 10,
  keepInMemoryBytes: 16 * 1024 * 1024,
  compression: 'gzip',
  ackTimeoutMs: 30_000,
  closeTimeoutMs: 30_000,
} as const satisfies Partial<KafkaTransportOptions>;

const COMPRESSIONS = ['gzip', 'none'] as const;
type NumericOption =
  | 'batchMaxEvents'
  | 'batchMaxBytes'
  | 'lingerMs'
  | 'keepInMemoryBytes'
  | 'ackTimeoutMs'
  | 'closeTimeoutMs';

export class KafkaTransport implements EventTransport {
  readonly kind = 'kafka';
  readonly topic: string;
  private readonly spool: Spool;
  private readonly reader: SpoolReader;
  private readonly kafka: Kafka;
  /** The current producer session; replaced after a failed send (see `resetProducer`). */
  private producer: Producer;
  /** Each send's partitions against its answers (docs/kafka.md: a send kafkajs resolves short). */
  private readonly answered = new AcknowledgedPartitions();
  /** Producer sessions started anew after a failed send. */
  producerRestarts = 0;
  /** Events the broker acknowledged since this transport was made. */
  acknowledged = 0;
  /** Sends that failed since this transport was made (each is retried). */
  shipErrors = 0;
  private readonly logger: Logger;
  private readonly keyFields: KeyFieldsReader;
  private readonly kept: KeptRecords<OutgoingMessage>;
  private readonly messages = new MessageBuilder();
  private readonly checkpoint: ShipCheckpoint;
  private readonly o: {
    batchMaxEvents: number;
    batchMaxBytes: number;
    lingerMs: number;
    keepInMemoryBytes: number;
    compression: CompressionTypes;
    ackTimeoutMs: number;
    closeTimeoutMs: number;
  };
  private shipped: number;
  private connected = false;
  private stopping = false;
  /** Aborted by `close()`: cuts a retry wait of the shipper short. */
  private readonly stopController = new AbortController();
  private wakeUp: (() => void) | undefined;
  private waiters: { offset: number; resolve: () => void }[] = [];
  private readonly loop: Promise<void>;
  private lastError: unknown;
  private closing: Promise<void> | undefined;

  constructor(options: KafkaTransportOptions) {
    const d = KAFKA_TRANSPORT_DEFAULTS;
    const positive = (field: NumericOption): number =>
      positiveIntegerOption(`KafkaTransport.${field}`, options[field], d[field]);
    if (options.kafka === undefined || options.kafka === null)
      throw new ConfigError('KafkaTransport.kafka', 'must be a kafkajs client');
    nonEmptyOption('KafkaTransport.spoolDir', options.spoolDir);
    this.topic = nonEmptyOption('KafkaTransport.topic', options.topic ?? d.topic);
    this.o = {
      batchMaxEvents: positive('batchMaxEvents'),
      batchMaxBytes: positive('batchMaxBytes'),
      lingerMs: positive('lingerMs'),
      keepInMemoryBytes: positive('keepInMemoryBytes'),
      ackTimeoutMs: positive('ackTimeoutMs'),
      closeTimeoutMs: positive('closeTimeoutMs'),
      compression:
        oneOfOption(
          'KafkaTransport.compression',
          options.compression,
          COMPRESSIONS,
          d.compression,
        ) === 'gzip'
          ? kafkajs.CompressionTypes.GZIP
          : kafkajs.CompressionTypes.None,
    };
    this.logger = options.logger ?? silentLogger();
    this.keyFields = new KeyFieldsReader(options.schemas ?? auditEventSchemas());
    this.kept = new KeptRecords<OutgoingMessage>(this.o.keepInMemoryBytes);
    this.reader = new SpoolReader(options.spoolDir);
    this.checkpoint = new ShipCheckpoint(
      options.spoolDir,
      (offset) => this.reader.release(offset),
      this.logger,
    );
    // read before the spool is locked, so that a checkpoint that cannot be read leaves nothing open
    const checkpoint = this.checkpoint.read();
    this.spool = new Spool({ ...options.spool, dir: options.spoolDir });
    // no checkpoint: nothing shipped yet from this spool, start at its oldest record;
    // after a power loss the spool can end before the checkpoint, and new events take those offsets
    this.shipped =
      checkpoint === undefined
        ? (listSegments(this.spool.dir)[0] ?? 0)
        : Math.min(checkpoint, this.spool.nextOffset);
    this.kafka = options.kafka;
    this.producer = this.newProducer();
    this.loop = this.shipLoop();
  }

  /** Events in the spool that the broker has not acknowledged yet. */
  get pending(): number {
    return this.spool.nextOffset - this.shipped;
  }

  get unwritten(): number {
    return this.spool.unwrittenRecords;
  }

  counts(): TransportCounts {
    return {
      acknowledged: this.acknowledged,
      depth: this.pending,
      spoolBytes: this.spool.sizeBytes,
      shipErrors: this.shipErrors,
      producerRestarts: this.producerRestarts,
    };
  }

  send(record: AuditEventRecord, encoded: Buffer): void {
    const appendTime = Date.now();
    const offset = this.spool.append(encoded, appendTime);
    this.kept.add(
      offset,
      this.messages.message(kafkaKeyFor(record), encoded, record.event_type, appendTime),
    );
    this.wakeUp?.();
  }

  /** Resolves when every event sent so far is acknowledged by the broker (acks=all). */
  async flush(timeoutMs?: number): Promise<void> {
    await this.spool.flush();
    const target = this.spool.nextOffset;
    if (this.shipped >= target) return;
    const acked = new Promise<void>((resolve) => this.waiters.push({ offset: target, resolve }));
    this.wakeUp?.();
    if (timeoutMs === undefined) return acked;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.notAcknowledged(target, timeoutMs)), timeoutMs);
    });
    try {
      await Promise.race([acked, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Why `flush` gave up: the code of the last failed send when there is one
   * (UNAVAILABLE: the broker cannot be reached; AUTH_FAILED: it refuses the
   * client), else TIMEOUT (the broker is slow). Either way the events stay in
   * the spool.
   */
  private notAcknowledged(target: number, timeoutMs: number): AuditError {
    const count = `${target - this.shipped} events not yet acknowledged by Kafka after ${timeoutMs} ms`;
    const kept = 'they stay in the spool and are sent when the broker is reachable';
    const cause = this.lastError;
    if (cause instanceof AuditError && cause.code !== AuditErrorCode.Timeout) {
      return new AuditError(cause.code, `${cause.message}; ${count}; ${kept}`, {
        retriable: cause.retriable,
        cause,
      });
    }
    const last = cause === undefined ? '' : ` (last error: ${(cause as Error).message})`;
    return new AuditError(AuditErrorCode.Timeout, `${count}${last}; ${kept}`, {
      retriable: true,
      cause,
    });
  }

  /**
   * Waits up to `timeoutMs` (default `closeTimeoutMs`) for the broker to
   * acknowledge what is pending, then stops shipping and releases the spool.
   * Events not acknowledged by then stay in the spool for the next run, and
   * close rejects as `flush` does, saying how many.
   */
  close(timeoutMs = this.o.closeTimeoutMs): Promise<void> {
    // a second close has the outcome of the first: the spool is closed once
    this.closing ??= this.closeOnce(timeoutMs);
    return this.closing;
  }

  private async closeOnce(timeoutMs: number): Promise<void> {
    let failure: Error | undefined;
    if (timeoutMs > 0) await this.flush(timeoutMs).catch((error: Error) => (failure = error));
    this.stopping = true;
    this.stopController.abort();
    this.wakeUp?.();
    await this.loop;
    // the acknowledged offset is on disk before the spool is released
    await this.checkpoint.settle().catch((error: Error) => (failure ??= error));
    await this.spool.close();
    if (this.connected) await this.producer.disconnect();
    if (failure !== undefined) throw failure;
  }

  private async sleepOrWake(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wakeUp = undefined;
  }

  /**
   * Ships until the transport closes. A failed send starts a new producer
   * session and is retried under `RETRY_POLICIES.shipping`, whatever the error:
   * the events are safe in the spool, and a broker that refuses the client
   * today (ACLs, credentials) may accept it once the operator fixes that.
   */
  private async shipLoop(): Promise<void> {
    while (!this.stopping) {
      if (this.shipped >= this.spool.nextOffset) {
        await this.sleepOrWake(1000);
        continue;
      }
      // let a batch form, unless a full one is waiting
      if (this.pending < this.o.batchMaxEvents) await sleep(this.o.lingerMs);
      let failures = 0;
      try {
        await retry(
          async () => {
            try {
              await this.shipAvailable();
            } catch (error) {
              failures++;
              this.shipErrors++;
              this.lastError = error;
              await this.resetProducer(error);
              throw error;
            }
          },
          {
            policy: RETRY_POLICIES.shipping,
            isRetriable: () => true,
            signal: this.stopController.signal,
            onRetry: (error, attempt) => {
              if (attempt === 1 || attempt % 20 === 0) {
                this.logger.warn(
                  {
                    topic: this.topic,
                    pending: this.pending,
                    failures: attempt,
                    err: (error as Error).message,
                  },
                  'cannot ship to Kafka, will retry',
                );
              }
            },
          },
        );
      } catch (error) {
        // only an abort ends the retries: the transport is closing, the events stay in the spool
        if (!this.stopping) throw error;
        return;
      }
      if (failures > 0)
        this.logger.info(
          { topic: this.topic, failures },
          'Kafka reachable again, shipping resumed',
        );
      this.lastError = undefined;
    }
  }

  /**
   * Sends what the spool holds from the acknowledged offset on, one request
   * after the other. A batch read from the spool (not kept in memory) is read
   * while the one before it is being sent.
   */
  private async shipAvailable(): Promise<void> {
    let ahead: Promise<OutgoingBatch | undefined> | undefined;
    while (!this.stopping) {
      const batch = await (ahead ?? this.nextBatch(this.shipped));
      ahead = undefined;
      if (batch === undefined) return;
      const sending = this.sendBatch(batch.messages);
      if (batch.fromSpool && batch.messages.length === this.o.batchMaxEvents)
        ahead = this.nextBatch(batch.next);
      try {
        await sending;
      } catch (error) {
        // the read ahead is dropped with the failed attempt, its failure with it
        await ahead?.catch(() => undefined);
        throw error;
      }
      this.acknowledge(batch.next);
    }
  }

  /** The batch from `offset` on: kept records when this process has them, else read from the spool. */
  private async nextBatch(offset: number): Promise<OutgoingBatch | undefined> {
    if (offset >= this.spool.nextOffset) return undefined;
    const kept = this.kept.take(offset, this.o.batchMaxEvents, this.o.batchMaxBytes);
    if (kept.length > 0) {
      return { next: offset + kept.length, fromSpool: false, messages: kept };
    }
    // records still in the spool's write buffer are not in the file yet
    this.spool.writeAppended();
    const records = await this.reader.read(offset, this.o.batchMaxEvents);
    if (records.length === 0) return undefined;
    const messages: OutgoingMessage[] = [];
    let bytes = 0;
    for (const record of records) {
      if (messages.length > 0 && bytes + record.value.length > this.o.batchMaxBytes) break;
      messages.push(this.spooledMessage(record));
      bytes += record.value.length;
    }
    return { next: offset + messages.length, fromSpool: true, messages };
  }

  private async sendBatch(messages: OutgoingMessage[]): Promise<void> {
    try {
      if (!this.connected) {
        await this.producer.connect();
        this.connected = true;
      }
      const producer = this.producer;
      await this.answered.checked(() =>
        producer.send({
          topic: this.topic,
          acks: -1,
          timeout: this.o.ackTimeoutMs,
          compression: this.o.compression,
          messages,
        }),
      );
    } catch (error) {
      throw kafkaError(error, {
        operation: 'produce to',
        topic: this.topic,
        brokers: kafkaBrokers(this.kafka),
      });
    }
  }

  /** Everything below `next` is acknowledged: callers waiting for it go on, the checkpoint follows. */
  private acknowledge(next: number): void {
    this.acknowledged += next - this.shipped;
    this.shipped = next;
    this.kept.release(next);
    this.checkpoint.advance(next);
    this.waiters = this.waiters.filter((waiter) => {
      if (waiter.offset > next) return true;
      waiter.resolve();
      return false;
    });
  }

  private newProducer(): Producer {
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // murmur2 on the key, as the Java client and kafkajs's DefaultPartitioner do: one package, one partition
      createPartitioner: this.answered.partitioner(keyPartitioner),
    });
  }

  /**
   * After a failed send the idempotent producer's session (producer id and
   * per-partition sequence numbers) may no longer match the broker's: a request
   * that timed out may have been appended after all, and kafkajs then keeps
   * failing with OUT_OF_ORDER_SEQUENCE_NUMBER (or UNKNOWN_PRODUCER_ID) on every
   * retry. So the next attempt starts a new session, with a new producer id,
   * and sends again from the checkpoint. What the broker had appended from the
   * old session is on the topic twice, on the same partition (every event has
   * a key), and the archiver drops the second copy by its event id.
   */
  private async resetProducer(cause: unknown): Promise<void> {
    const old = this.producer;
    this.producer = this.newProducer();
    if (this.connected) {
      this.connected = false;
      this.producerRestarts++;
      this.logger.info(
        { topic: this.topic, err: (cause as Error).message, restarts: this.producerRestarts },
        'starting a new Kafka producer session after a failed send',
      );
    }
    // a broker that does not answer must not hold the shipper: the old session is dropped either way
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      old.disconnect().catch((error: unknown) => {
        // a session on a broker that is gone fails to leave; anything else is not expected
        if (!(error instanceof Error && error.name.startsWith('KafkaJS'))) throw error;
        this.logger.debug({ err: error.message }, 'old producer session did not disconnect');
      }),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, 5000))),
    ]);
    clearTimeout(timer);
  }

  private spooledMessage(record: SpoolRecord): OutgoingMessage {
    const fields = this.keyFields.read(record.value);
    return this.messages.message(
      kafkaKeyFor(fields),
      record.value,
      fields.event_type,
      record.appendTime,
    );
  }
}

interface OutgoingBatch {
  /** The spool offset after the batch's last record. */
  next: number;
  fromSpool: boolean;
  messages: OutgoingMessage[];
}
