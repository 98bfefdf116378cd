/**
 * The shipper's recovery from a producer session the broker no longer accepts.
 * The broker is stood in for by a minimal kafkajs-shaped producer that answers
 * as a real one does once its sequence numbers are out of step: every send of
 * that session fails with OUT_OF_ORDER_SEQUENCE_NUMBER. The integration suite
 * runs the same transport against the real broker (broker-pause.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import kafkajs, { type Kafka, type Producer, type ProducerRecord } from 'kafkajs';
import { AuditEvent } from '../../producer/audit-event.js';
import { AuditTrail } from '../../producer/audit-trail.js';
import { AuditEventType } from '../../schemas/event-type.js';
import { KafkaTransport } from '../../producer/kafka-transport.js';
import { tempDir } from '../helpers.js';

function outOfOrder(): Error {
  return new kafkajs.KafkaJSProtocolError({
    type: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
    code: 45,
    retriable: false,
    message: 'The broker received an out of order sequence number',
  } as unknown as Error);
}

/** Sessions: the first `broken` sessions fail every send; later ones record what they send. */
function sessions(broken: number): { kafka: Kafka; sent: ProducerRecord[]; started: () => number } {
  let count = 0;
  const sent: ProducerRecord[] = [];
  const kafka = {
    producer: () => {
      const session = ++count;
      return {
        connect: () => Promise.resolve(),
        disconnect: () => Promise.resolve(),
        send: (record: ProducerRecord) => {
          if (session <= broken) return Promise.reject(outOfOrder());
          sent.push(record);
          return Promise.resolve([]);
        },
      } as unknown as Producer;
    },
  } as unknown as Kafka;
  return { kafka, sent, started: () => count };
}

test('a producer session failing with OUT_OF_ORDER_SEQUENCE_NUMBER is replaced and every event is shipped', async (t) => {
  const { kafka, sent, started } = sessions(2);
  const transport = new KafkaTransport({ kafka, spoolDir: await tempDir(t), topic: 't' });
  const trail = new AuditTrail({ transport, source: 'session-test' });
  const ids: string[] = [];
  for (let i = 0; i < 300; i++) {
    const event = new AuditEvent(AuditEventType.PackageInstall).withPackageName(`p-${i % 7}`);
    trail.addEvent(event);
    ids.push(event.id);
  }
  await trail.flush({ timeoutMs: 20_000 });
  await trail.close();
  assert.ok(started() >= 3, `a new session after each failure (${started()} sessions)`);
  assert.equal(transport.producerRestarts, 2);
  const shipped = sent.flatMap((r) => r.messages.map((m) => m.key?.toString()));
  assert.equal(shipped.length, ids.length, 'every event shipped once by the healthy session');
});
