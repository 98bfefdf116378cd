/**
 * Runs the test tiers over the built tests in dist/test with node's test runner:
 *
 *   unit         pure and in-process tests; no servers, no subprocesses; node's default concurrency
 *   e2e          the `audit-trail` command and other subprocesses (test/e2e)
 *   integration  against the real Kafka and S3Proxy started by `npm run stack:up`, one file at a time
 *   all          the three in that order (what `npm test` runs)
 *
 * Every tier runs even when an earlier one failed; the exit status is non-zero
 * when any failed. The tests run under the Node.js binary that runs this script.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TESTS = fileURLToPath(new URL('../test', import.meta.url));
const TIERS = ['unit', 'e2e', 'integration'] as const;
type Tier = (typeof TIERS)[number];

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.test.js'))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

function tierOf(file: string): Tier {
  const top = relative(TESTS, file).split(sep)[0];
  return top === 'e2e' || top === 'integration' ? top : 'unit';
}

function run(tier: Tier, files: string[]): boolean {
  if (files.length === 0) {
    process.stderr.write(`test: no ${tier} tests in ${TESTS} (run \`npm run build\` first)\n`);
    return false;
  }
  const concurrency = tier === 'integration' ? ['--test-concurrency=1'] : [];
  process.stderr.write(`test: ${tier}, ${files.length} files, node ${process.version}\n`);
  const started = Date.now();
  const result = spawnSync(
    process.execPath,
    ['--test', ...concurrency, '--test-reporter=spec', ...files],
    { stdio: 'inherit' },
  );
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const ok = result.status === 0;
  process.stderr.write(`test: ${tier} ${ok ? 'passed' : 'FAILED'} in ${seconds} s\n`);
  return ok;
}

const wanted = process.argv[2] ?? 'all';
if (wanted !== 'all' && !(TIERS as readonly string[]).includes(wanted)) {
  process.stderr.write(`usage: node dist/scripts/test.js [${TIERS.join('|')}|all]\n`);
  process.exit(2);
}
const tiers = wanted === 'all' ? TIERS : [wanted as Tier];
const all = testFiles(TESTS);
const failed = tiers.filter(
  (tier) =>
    !run(
      tier,
      all.filter((file) => tierOf(file) === tier),
    ),
);
if (failed.length > 0) {
  process.stderr.write(`test: failed tiers: ${failed.join(', ')}\n`);
  process.exit(1);
}
