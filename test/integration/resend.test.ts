import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers.js';
import { assertArchivedOnce, pipelineEnv } from './pipeline.js';
import { createTopics, runCli, testBucket } from './stack.js';

/** Events without a package (configuration changes, whole-host scans), some without a source either. */
function keylessFile(dir: string, count: number): { file: string; ids: Set<string> } {
  const ids = new Set<string>();
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = `0190b6a2-7c3e-7000-8000-${String(i).padStart(12, '0')}`;
    ids.add(id);
    lines.push(
      JSON.stringify({
        id,
        event_type: i % 2 === 0 ? 'ConfigurationChange' : 'VulnerabilityScan',
        user: `admin-${i % 5}`,
        details: { setting: `s-${i % 13}`, seq: String(i) },
        ...(i % 4 === 0 ? {} : { source: `host-${i % 7}` }),
      }),
    );
  }
  const file = join(dir, 'keyless.ndjson');
  writeFileSync(file, lines.join('\n') + '\n');
  return { file, ids };
}

test('a file of events without a package produced twice: each event archived once, verify OK', async (t) => {
  const partitions = 6;
  const { topic } = await createTopics(t, partitions);
  const { bucket, store } = await testBucket(t);
  const dir = await tempDir(t);
  const { file, ids } = keylessFile(dir, 2000);
  const env = pipelineEnv(topic, bucket, { AUDIT_BATCH_MAX_EVENTS: '500' });

  // the same file twice, as an operator who re-runs a job would, from two spools
  for (const run of [1, 2]) {
    const produced = await runCli(['produce', '--from', file], {
      ...env,
      AUDIT_SPOOL_DIR: join(dir, `spool-${run}`),
    });
    assert.equal(produced.code, 0, produced.stderr);
  }
  await assertArchivedOnce(store, env, topic, partitions, ids);
});
