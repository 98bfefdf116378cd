/**
 * The shipper against a kafkajs-shaped producer that records what the broker
 * would append: every event goes out once per successful send, in spool
 * order, with the key and event type of its full decode, whether it is sent
 * from memory (this process's events), from the spool (an earlier run's
 * backlog, or past `keepInMemoryBytes`), or again after a failed send.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Kafka, Message, ProducerRecord } from 'kafkajs';
import { KafkaTransport, type KafkaTransportOptions } from '../../producer/kafka-transport.js';
import { kafkaKeyFor } from '../../producer/kafka-key.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { decodeSingleObject, encodeSingleObject } from '../../schemas/single-object.js';
import { record, tempDir } from '../helpers.js';

/** What the broker appended: the messages of every send that succeeded, in order. */
function recordingKafka(failSends: Set<number> = new Set()): {
  kafka: Kafka;
  appended: Message[];
  sends: number;
} {
  const state = { appended: [] as Message[], sends: 0 };
  const kafka = {
    producer: () => ({
      connect: () => Promise.resolve(),
      disconnect: () => Promise.resolve(),
      send: async (request: ProducerRecord) => {
        const call = ++state.sends;
        if (failSends.has(call)) throw new Error(`send ${call} failed`);
        state.appended.push(...request.messages);
        return [];
      },
    }),
  } as unknown as Kafka;
  return {
    kafka,
    get appended() {
      return state.appended;
    },
    get sends() {
      return state.sends;
    },
  };
}

/** Events with and without a package, of several types, each with a distinct id. */
function events(count: number, from = 0): AuditEventRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    const id = `0190b6a2-7c3e-7d4a-9b1e-${n.toString(16).padStart(12, '0')}`;
    return n % 4 === 0
      ? record({ id, event_type: 'ConfigurationChange', package_name: null, details: {} })
      : record({ id, event_type: 'PackageInstall', package_name: `pkg-${n % 7}` });
  });
}

function send(transport: KafkaTransport, records: AuditEventRecord[]): void {
  for (const r of records) transport.send(r, encodeSingleObject(auditEventSchemas(), r));
}

/** Each appended message checked against the full decode of its value; returns the ids in order. */
function checkedIds(appended: Message[]): string[] {
  return appended.map((message) => {
    const event = decodeSingleObject<AuditEventRecord>(
      auditEventSchemas(),
      message.value as Buffer,
    );
    assert.equal(message.key, kafkaKeyFor(event));
    assert.equal(message.headers?.['event_type'], event.event_type);
    assert.equal(
      message.headers?.['schema_fingerprint'],
      auditEventSchemas().reader.fingerprintHex,
    );
    return event.id;
  });
}

function transportFor(
  options: Partial<KafkaTransportOptions> & Pick<KafkaTransportOptions, 'kafka' | 'spoolDir'>,
): KafkaTransport {
  return new KafkaTransport({ batchMaxEvents: 50, lingerMs: 1, ...options });
}

test('a backlog of an earlier run, then this run’s events: sent once each, in spool order, keys and headers as decoded', async (t) => {
  const spoolDir = await tempDir(t);
  // an earlier run whose broker never answered: its events stay in the spool
  const down = recordingKafka(new Set(Array.from({ length: 1000 }, (_, i) => i + 1)));
  const earlier = new KafkaTransport({ kafka: down.kafka, spoolDir, lingerMs: 1 });
  send(earlier, events(120));
  await earlier.close(0);
  assert.equal(down.appended.length, 0);

  const up = recordingKafka();
  const transport = transportFor({ kafka: up.kafka, spoolDir });
  assert.equal(transport.pending, 120);
  send(transport, events(130, 120));
  await transport.flush(10_000);
  assert.deepEqual(
    checkedIds(up.appended),
    events(250).map((e) => e.id),
  );
  await transport.close();
  assert.equal(readFileSync(join(spoolDir, 'SHIPPED'), 'utf8'), '250\n');
});

test('events past keepInMemoryBytes are read back from the spool, in order', async (t) => {
  const spoolDir = await tempDir(t);
  const up = recordingKafka();
  const transport = transportFor({ kafka: up.kafka, spoolDir, keepInMemoryBytes: 2000 });
  send(transport, events(300));
  await transport.flush(10_000);
  assert.deepEqual(
    checkedIds(up.appended),
    events(300).map((e) => e.id),
  );
  await transport.close();
});

test('after a failed send the shipper goes on from the first unacknowledged event: nothing skipped, nothing reordered', async (t) => {
  const spoolDir = await tempDir(t);
  const flaky = recordingKafka(new Set([2, 5]));
  const transport = transportFor({ kafka: flaky.kafka, spoolDir });
  send(transport, events(200));
  await transport.flush(20_000);
  send(transport, events(100, 200));
  await transport.flush(20_000);
  assert.ok(flaky.sends >= 8, `${flaky.sends} sends`);
  assert.deepEqual(
    checkedIds(flaky.appended),
    events(300).map((e) => e.id),
  );
  await transport.close();
  assert.equal(readFileSync(join(spoolDir, 'SHIPPED'), 'utf8'), '300\n');
});
