/**
 * An ExportSubmitter that sends each request to the requests topic, keyed by
 * its id, acknowledged by every in-sync replica: the request is durable when
 * submit resolves. One producer, connected at the first request and again
 * after a failure. It is a plain producer, as `export --submit` uses: a request
 * sent twice by a retry has one id, and the exporter answers the second from
 * result.json.
 */
import type { Kafka, Producer } from 'kafkajs';
import { kafkaBrokers } from '../../../kafka/client.js';
import { kafkaCall } from '../../../kafka/errors.js';
import type { ExportRequest } from '../export-request.js';
import type { ExportSubmitter } from './context.js';

export class KafkaExportSubmitter implements ExportSubmitter {
  readonly #kafka: Kafka;
  readonly #topic: string;
  #producer: Promise<Producer> | undefined;

  constructor(kafka: Kafka, topic: string) {
    this.#kafka = kafka;
    this.#topic = topic;
  }

  #connected(): Promise<Producer> {
    this.#producer ??= (async () => {
      const producer = this.#kafka.producer();
      await producer.connect();
      return producer;
    })();
    return this.#producer;
  }

  async submit(request: ExportRequest, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const context = {
      operation: 'send an export request to',
      topic: this.#topic,
      brokers: kafkaBrokers(this.#kafka),
    };
    try {
      await kafkaCall(context, async () => {
        const producer = await this.#connected();
        await producer.send({
          topic: this.#topic,
          acks: -1,
          messages: [{ key: request.id, value: JSON.stringify(request) }],
        });
      });
    } catch (error) {
      // the next request connects again
      const stale = this.#producer;
      this.#producer = undefined;
      await stale?.then((p) => p.disconnect()).catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    const producer = this.#producer;
    this.#producer = undefined;
    await producer?.then((p) => p.disconnect()).catch(() => undefined);
  }
}
