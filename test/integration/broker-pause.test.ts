import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuditEvent } from '../../producer/audit-event.js';
import { AuditTrail } from '../../producer/audit-trail.js';
import { AuditEventType } from '../../schemas/event-type.js';
import { KafkaTransport } from '../../producer/kafka-transport.js';
import { tempDir } from '../helpers.js';
import { assertArchivedOnce, pipelineEnv } from './pipeline.js';
import { createTopics, kafkaClient, ROOT, testBucket } from './stack.js';

function brokerPid(): number {
  return Number(readFileSync(join(ROOT, '.stack', 'kafka.pid'), 'utf8').trim());
}

test('the broker paused 35 s while a producer adds events: every event acknowledged, then archived once', async (t) => {
  const partitions = 4;
  const { topic } = await createTopics(t, partitions);
  const { bucket, store } = await testBucket(t);
  const transport = new KafkaTransport({
    kafka: kafkaClient(),
    spoolDir: await tempDir(t),
    topic,
    batchMaxEvents: 200,
  });
  const trail = new AuditTrail({ transport, source: 'pause-test' });
  const ids = new Set<string>();
  const add = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const seq = ids.size;
      const event =
        seq % 5 === 0
          ? new AuditEvent(AuditEventType.ConfigurationChange).withDetail('seq', String(seq))
          : new AuditEvent(AuditEventType.PackageInstall)
              .withPackageName(`pkg-${seq % 17}`)
              .withDetail('seq', String(seq));
      trail.addEvent(event);
      ids.add(event.id);
    }
  };

  const pid = brokerPid();
  let paused = false;
  const resume = (): void => {
    if (paused) process.kill(pid, 'SIGCONT');
    paused = false;
  };
  t.after(resume);
  const started = Date.now();
  let pausedAt = 0;
  let resumedAt = 0;
  // the installer keeps working: 50 events every 100 ms for 45 s, the broker frozen for 35 s from 5 s on
  while (Date.now() - started < 45_000) {
    add(50);
    const elapsed = Date.now() - started;
    if (!paused && pausedAt === 0 && elapsed >= 5_000) {
      process.kill(pid, 'SIGSTOP');
      paused = true;
      pausedAt = Date.now();
    }
    if (paused && Date.now() - pausedAt >= 35_000) {
      resume();
      resumedAt = Date.now();
    }
    await sleep(100);
  }
  resume();
  assert.ok(resumedAt - pausedAt >= 35_000, 'the broker was frozen for 35 s');

  // not stuck: everything is acknowledged within a bounded time after the broker is back
  await trail.flush({ timeoutMs: 120_000 });
  t.diagnostic(
    `${ids.size} events; all acknowledged ${((Date.now() - resumedAt) / 1000).toFixed(1)} s after the broker resumed`,
  );
  await trail.close();

  const env = pipelineEnv(topic, bucket, { AUDIT_BATCH_MAX_EVENTS: '5000' });
  await assertArchivedOnce(store, env, topic, partitions, ids);
});
