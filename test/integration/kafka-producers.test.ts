import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers.js';
import { brokers, consumeEvents, createTopics, runCli } from './stack.js';
import { eventFiles } from './event-files.js';

const PRODUCERS = 4;
const PER_PRODUCER = 25_000;
const PACKAGES = 40;

test(`${PRODUCERS} producer processes publish ${PER_PRODUCER} events each; a consumer group reads every id once, per-package order kept`, async (t) => {
  const { topic } = await createTopics(t, 6);
  const dir = await tempDir(t);
  const { files, ids } = eventFiles(dir, PRODUCERS, PER_PRODUCER, PACKAGES);

  const started = Date.now();
  const results = await Promise.all(
    files.map((file, p) =>
      runCli(['produce', '--from', file], {
        AUDIT_TRANSPORT: 'kafka',
        KAFKA_BROKERS: brokers(),
        AUDIT_TOPIC: topic,
        AUDIT_SPOOL_DIR: join(dir, `spool-${p}`),
      }),
    ),
  );
  for (const result of results) {
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^${PER_PRODUCER} events acknowledged by Kafka`));
  }
  t.diagnostic(
    `${PRODUCERS * PER_PRODUCER} events produced and acknowledged in ${Date.now() - started} ms`,
  );

  const events = await consumeEvents(topic, PRODUCERS * PER_PRODUCER, 120_000);
  assert.equal(events.length, PRODUCERS * PER_PRODUCER);
  assert.deepEqual(new Set(events.map((e) => e.event.id)), ids, 'every id once');

  // per package (and producer), events arrive in the order they were added
  const lastSeq = new Map<string, number>();
  const partitionOf = new Map<string, number>();
  for (const { event, key, partition } of events) {
    assert.equal(key, event.package_name, 'the key is the package name');
    const name = event.package_name as string;
    assert.equal(partitionOf.get(name) ?? partition, partition, `${name} stays on one partition`);
    partitionOf.set(name, partition);
    const stream = `${event.details['producer']}/${name}`;
    const seq = Number(event.details['seq']);
    assert.ok(seq > (lastSeq.get(stream) ?? -1), `${stream}: ${seq} after ${lastSeq.get(stream)}`);
    lastSeq.set(stream, seq);
  }
});
