import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type AuditError, AuditErrorCode } from '../../common/errors.js';
import { AuditEvent } from '../../producer/audit-event.js';
import { AuditTrail } from '../../producer/audit-trail.js';
import { AuditEventType } from '../../schemas/event-type.js';
import { KafkaTransport } from '../../producer/kafka-transport.js';
import { tempDir } from '../helpers.js';
import { brokers, consumeEvents, createTopics, kafkaClient, ROOT } from './stack.js';

const FIXTURE = join(ROOT, 'dist/test/integration/fixtures/recording-consumer.js');

function stack(action: 'up' | 'down'): void {
  const result = spawnSync(process.execPath, [join(ROOT, 'dist/scripts/stack.js'), action], {
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stdout + result.stderr);
}

function idsIn(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

test('broker stopped while a producer keeps adding events: every event arrives once, flush() waits for the broker', async (t) => {
  const { topic } = await createTopics(t, 3);
  const transport = new KafkaTransport({ kafka: kafkaClient(), spoolDir: await tempDir(t), topic });
  const trail = new AuditTrail({ transport, source: 'outage-test' });
  const ids: string[] = [];
  const add = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const event = new AuditEvent(AuditEventType.PackageInstall)
        .withPackageName(`pkg-${ids.length % 11}`)
        .withDetail('seq', String(ids.length));
      trail.addEvent(event);
      ids.push(event.id);
    }
  };
  add(500);
  await trail.flush();

  stack('down');
  let restarted = 0;
  try {
    for (let round = 0; round < 40; round++) {
      add(50); // the installer keeps working while the broker is away
      await sleep(50);
    }
    // UNAVAILABLE once the shipper has met the broker gone, TIMEOUT while its first send still waits
    await assert.rejects(trail.flush({ timeoutMs: 1500 }), (error: AuditError) => {
      assert.ok(
        [AuditErrorCode.Unavailable, AuditErrorCode.Timeout].includes(error.code as never),
        error.message,
      );
      assert.equal(error.retriable, true);
      return true;
    });
    assert.ok(transport.pending >= 2000, `${transport.pending} events wait in the spool`);
  } finally {
    stack('up');
    restarted = Date.now();
  }
  add(500);
  await trail.flush();
  assert.ok(Date.now() >= restarted);
  assert.equal(transport.pending, 0);
  await trail.close();

  const events = await consumeEvents(topic, ids.length, 90_000);
  assert.equal(events.length, ids.length);
  assert.deepEqual(new Set(events.map((e) => e.event.id)), new Set(ids));
  const seqByPackage = new Map<string, number>();
  for (const { event } of events) {
    const seq = Number(event.details['seq']);
    assert.ok(
      seq > (seqByPackage.get(event.package_name ?? '') ?? -1),
      'per-package order kept across the outage',
    );
    seqByPackage.set(event.package_name ?? '', seq);
  }
});

test('a consumer killed with SIGKILL mid-batch and restarted loses nothing', async (t) => {
  const { topic } = await createTopics(t, 3);
  const total = 3000;
  const spoolDir = await tempDir(t);
  const trail = new AuditTrail({
    transport: new KafkaTransport({ kafka: kafkaClient(), spoolDir, topic }),
  });
  const ids = new Set<string>();
  for (let i = 0; i < total; i++) {
    const event = new AuditEvent(AuditEventType.VulnerabilityScan).withPackageName(`pkg-${i % 13}`);
    trail.addEvent(event);
    ids.add(event.id);
  }
  await trail.close({ timeoutMs: 60_000 });

  const out = join(await tempDir(t), 'handled.txt');
  const env = {
    ...process.env,
    KAFKA_BROKERS: brokers(),
    TOPIC: topic,
    GROUP: `it-crash-${topic}`,
    OUT: out,
    MAX_BYTES: '4096',
  };
  const start = (): ChildProcess =>
    spawn(process.execPath, [FIXTURE], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = (child: ChildProcess): Promise<number | null> =>
    new Promise((resolve) => child.once('exit', (code) => resolve(code)));

  let kills = 0;
  for (const threshold of [400, 1200]) {
    const child = start();
    await waitFor(() => idsIn(out).length >= threshold, 60_000, `${threshold} handled events`);
    child.kill('SIGKILL');
    await exited(child);
    kills++;
  }
  const last = start();
  await waitFor(() => new Set(idsIn(out)).size >= total, 90_000, 'every event handled');
  last.kill('SIGTERM'); // graceful: finishes the batch, commits, leaves the group
  assert.equal(await exited(last), 0);

  const handled = idsIn(out);
  const distinct = new Set(handled);
  assert.equal(kills, 2);
  assert.deepEqual(distinct, ids, 'every event was handled');
  t.diagnostic(
    `${handled.length - distinct.size} events were handled twice after the kills (allowed at this stage)`,
  );
});
