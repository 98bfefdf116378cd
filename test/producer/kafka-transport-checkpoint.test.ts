/**
 * The shipper's checkpoint (`SHIPPED`): only a missing file means "nothing
 * shipped yet". A checkpoint that exists but cannot be read must stop the
 * transport, not send the whole spool again.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Kafka, ProducerRecord } from 'kafkajs';
import { AuditErrorCode } from '../../common/errors.js';
import { KafkaTransport } from '../../producer/kafka-transport.js';
import { tempDir } from '../helpers.js';

/** A kafkajs-shaped client whose producer records what it would send. */
function recordingKafka(): { kafka: Kafka; sent: ProducerRecord[] } {
  const sent: ProducerRecord[] = [];
  const kafka = {
    producer: () => ({
      connect: () => Promise.resolve(),
      disconnect: () => Promise.resolve(),
      send: (record: ProducerRecord) => {
        sent.push(record);
        return Promise.resolve([]);
      },
    }),
  } as unknown as Kafka;
  return { kafka, sent };
}

test('a SHIPPED checkpoint that cannot be read is an IO_ERROR, and nothing is resent', async (t) => {
  const spoolDir = await tempDir(t);
  const { kafka, sent } = recordingKafka();
  // a folder where the file should be: reading it fails with EISDIR, as EACCES or EIO would
  mkdirSync(join(spoolDir, 'SHIPPED'));
  assert.throws(() => new KafkaTransport({ kafka, spoolDir }), {
    code: AuditErrorCode.Io,
    message: /cannot read the checkpoint .*SHIPPED/,
  });
  assert.equal(sent.length, 0);

  // the failed start left the spool unlocked: once the checkpoint is readable (here: absent) it opens
  rmSync(join(spoolDir, 'SHIPPED'), { recursive: true });
  const transport = new KafkaTransport({ kafka, spoolDir });
  assert.equal(transport.pending, 0);
  await transport.close();
});

test('a missing SHIPPED checkpoint means nothing was shipped yet', async (t) => {
  const spoolDir = await tempDir(t);
  const { kafka } = recordingKafka();
  const transport = new KafkaTransport({ kafka, spoolDir });
  assert.equal(transport.pending, 0);
  await transport.close();
});
