import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from '../helpers.js';
import { assertArchivedOnce, pipelineEnv } from './pipeline.js';
import { createTopics, MAIN, runCli, testBucket } from './stack.js';

const PRODUCERS = 4;
const WAVES = 5;
const PER_FILE = 5_000;

/** One producer's file of one wave; every tenth event has no package (a configuration change). */
function waveFile(dir: string, producer: number, wave: number, ids: Set<string>): string {
  const lines: string[] = [];
  for (let i = 0; i < PER_FILE; i++) {
    const id = `0190b6a2-${String(producer).padStart(4, '0')}-7${String(wave).padStart(3, '0')}-8000-${String(i).padStart(12, '0')}`;
    ids.add(id);
    const common = { id, user: `installer-${producer}`, source: `host-${producer}` };
    lines.push(
      JSON.stringify(
        i % 10 === 0
          ? { ...common, event_type: 'ConfigurationChange', details: { setting: `s-${i % 7}` } }
          : {
              ...common,
              event_type: 'PackageInstall',
              package_name: `pkg-${i % 40}`,
              package_version: `1.${wave}.${i}`,
              details: { seq: String(i) },
            },
      ),
    );
  }
  const file = join(dir, `p${producer}-w${wave}.ndjson`);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

test('two archiver members, one SIGSTOPped past its session timeout and resumed three times while 4 producers publish 100,000 events with resends: each event archived once, verify OK', async (t) => {
  const partitions = 6;
  const { topic } = await createTopics(t, partitions);
  const { bucket, store } = await testBucket(t);
  const dir = await tempDir(t);
  const ids = new Set<string>();
  const waves = Array.from({ length: WAVES }, (_, w) =>
    Array.from({ length: PRODUCERS }, (_, p) => waveFile(dir, p, w, ids)),
  );
  // a fifth installer resends the first 2,000 events of the first wave (same ids, new offsets)
  const resend = join(dir, 'resend.ndjson');
  writeFileSync(
    resend,
    readFileSync(waves[0]?.[0] as string, 'utf8')
      .split('\n')
      .slice(0, 2000)
      .join('\n') + '\n',
  );
  const sessionTimeoutMs = 6000;
  const batchMaxAgeMs = 8000;
  const env = pipelineEnv(topic, bucket, {
    AUDIT_BATCH_MAX_EVENTS: '50000',
    AUDIT_BATCH_MAX_AGE_MS: String(batchMaxAgeMs),
    AUDIT_ARCHIVER_SESSION_TIMEOUT_MS: String(sessionTimeoutMs),
  });

  const member = (): { child: ChildProcess; exited: Promise<number | null> } => {
    const child = spawn(process.execPath, [MAIN, 'archive'], { env, stdio: 'ignore' });
    return { child, exited: new Promise((resolve) => child.once('exit', resolve)) };
  };
  const paused = member();
  const steady = member();
  t.after(() => {
    paused.child.kill('SIGKILL');
    steady.child.kill('SIGKILL');
  });

  // right after each of the first three waves the member holds open batches (they close only by
  // age); frozen past its session, it loses its partitions to the other member, which writes
  // them; when it wakes, its own batches of the same offsets are old enough to be written
  for (const [w, files] of waves.entries()) {
    const runs = files.map((file, p) =>
      runCli(['produce', '--from', file], { ...env, AUDIT_SPOOL_DIR: join(dir, `spool-${p}`) }),
    );
    if (w === WAVES - 1)
      runs.push(
        runCli(['produce', '--from', resend], { ...env, AUDIT_SPOOL_DIR: join(dir, 'spool-r') }),
      );
    for (const result of await Promise.all(runs)) assert.equal(result.code, 0, result.stderr);
    if (w < 3) {
      await sleep(1000);
      paused.child.kill('SIGSTOP');
      // past its session and past the age at which the other member writes the batch it took over
      await sleep(sessionTimeoutMs + batchMaxAgeMs + 6000);
      paused.child.kill('SIGCONT');
    }
    await sleep(3000);
  }
  await sleep(6000);
  paused.child.kill('SIGTERM');
  steady.child.kill('SIGTERM');
  await Promise.all([paused.exited, steady.exited]);

  await assertArchivedOnce(store, env, topic, partitions, ids);
});
