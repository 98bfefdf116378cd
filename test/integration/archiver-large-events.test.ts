import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers.js';
import { pipelineEnv, readPartitions } from './pipeline.js';
import { eventFiles } from './event-files.js';
import { createTopics, runCli, testBucket } from './stack.js';

/** Events of about `detailBytes` bytes of details each (four values of a quarter each). */
function largeEventFile(dir: string, count: number, detailBytes: number): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const details: Record<string, string> = { seq: String(i) };
    for (let d = 0; d < 4; d++) details[`blob${d}`] = randomBytes(detailBytes / 8).toString('hex');
    lines.push(
      JSON.stringify({
        id: `0190b6a2-0000-7000-8000-${String(i).padStart(12, '0')}`,
        event_type: 'VulnerabilityScan',
        package_name: 'big-report',
        package_version: '1.0.0',
        user: 'scanner',
        details,
        source: 'host-0',
      }),
    );
  }
  const file = join(dir, 'large.ndjson');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

async function archiveOnce(
  files: string[],
  dir: string,
  partitions: number,
  t: Parameters<typeof createTopics>[0],
) {
  const { topic } = await createTopics(t, partitions);
  const { bucket, store } = await testBucket(t);
  const env = pipelineEnv(topic, bucket);
  for (const [p, file] of files.entries()) {
    const produced = await runCli(['produce', '--from', file], {
      ...env,
      AUDIT_SPOOL_DIR: join(dir, `spool-${topic}-${p}`),
    });
    assert.equal(produced.code, 0, produced.stderr);
  }
  const started = Date.now();
  const archived = await runCli(['archive', '--once'], env, 150_000);
  const seconds = (Date.now() - started) / 1000;
  assert.equal(archived.code, 0, archived.stdout + archived.stderr);
  const archive = await readPartitions(store, topic, partitions);
  const eventBytes = archive.events.reduce((sum, e) => sum + JSON.stringify(e).length, 0);
  return { archive, seconds, eventBytes };
}

test('large events (about 16 KB each) on one partition are archived at a pace comparable to small ones by bytes', async (t) => {
  const dir = await tempDir(t);
  const count = 2000;
  const large = await archiveOnce([largeEventFile(dir, count, 16_000)], dir, 1, t);
  assert.equal(large.archive.events.length, count);
  assert.equal(new Set(large.archive.events.map((e) => e.id)).size, count);

  const { files } = eventFiles(dir, 1, 20_000, 20);
  const small = await archiveOnce(files, dir, 1, t);
  assert.equal(small.archive.events.length, 20_000);
  const rate = (r: typeof large) =>
    `${(r.eventBytes / r.seconds / 1e6).toFixed(2)} MB/s of event JSON, ${(r.archive.events.length / r.seconds).toFixed(0)} events/s`;
  t.diagnostic(
    `large: ${count} events, ${(large.eventBytes / 1e6).toFixed(1)} MB in ${large.seconds.toFixed(1)} s (${rate(large)}); ` +
      `small: 20000 events, ${(small.eventBytes / 1e6).toFixed(1)} MB in ${small.seconds.toFixed(1)} s (${rate(small)}); ` +
      'both include joining the group',
  );
});
