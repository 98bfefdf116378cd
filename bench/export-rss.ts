/**
 * Peak RSS of `audit-trail serve` while it streams a direct CSV export of an
 * archive of N events, for N = 100,000 and 1,000,000 by default. Each archive
 * is built once with `audit-trail demo --events N` (kept in the work folder,
 * so a second run reuses it); the server runs as its own process and its peak
 * resident set is read from /proc/<pid>/status (VmHWM) after the export,
 * before SIGTERM. The export goes to a byte counter, as to /dev/null.
 *
 *   npm run build && node dist/bench/export-rss.js [N ...] [--work DIR]
 *
 * Linux only (/proc). Not a test: it prints figures.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tokenLine } from '../consumers/exporter/http/tokens.js';

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const TOKEN = 'bench-token-not-secret-0123456789abcdefghijkl';

function options(): { counts: number[]; work: string } {
  const args = process.argv.slice(2);
  const at = args.indexOf('--work');
  const work = at >= 0 ? (args.splice(at, 2)[1] ?? '') : join(tmpdir(), 'audit-export-rss');
  const counts = args.length > 0 ? args.map(Number) : [100_000, 1_000_000];
  return { counts, work };
}

function ensureArchive(dir: string, events: number): string {
  const archive = join(dir, 'archive');
  if (existsSync(join(dir, 'audit-trail.csv'))) return archive;
  process.stderr.write(`building an archive of ${events} events in ${dir} (audit-trail demo)\n`);
  const run = spawnSync(
    process.execPath,
    [MAIN, 'demo', '--events', String(events), '--out', dir],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  if (run.status !== 0) throw new Error(`demo exited with ${run.status}`);
  return archive;
}

async function peakRssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1] ?? Number.NaN);
}

async function streamCsv(
  url: string,
): Promise<{ bytes: number; seconds: number; trailers: string }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}v1/events?format=csv`,
      { headers: { Authorization: `Bearer ${TOKEN}` } },
      (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () =>
          resolve({
            bytes,
            seconds: Number(process.hrtime.bigint() - started) / 1e9,
            trailers: res.trailers['x-audit-counts'] ?? '',
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function measure(work: string, events: number): Promise<void> {
  const dir = join(work, `n${events}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const archive = ensureArchive(dir, events);
  const tokens = join(work, 'tokens');
  await writeFile(tokens, tokenLine('bench', TOKEN), { mode: 0o600 });
  const server = spawn(process.execPath, [MAIN, 'serve', '--port', '0'], {
    env: {
      ...process.env,
      AUDIT_ARCHIVE_DIR: archive,
      AUDIT_HTTP_TOKENS_FILE: tokens,
      AUDIT_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve) => {
    let out = '';
    server.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /listening on (\S+)/.exec(out);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
  });
  const pid = server.pid ?? 0;
  const idle = await peakRssKiB(pid);
  const run = await streamCsv(url);
  const peak = await peakRssKiB(pid);
  server.kill('SIGTERM');
  await once(server, 'exit');
  const mib = (kib: number): string => (kib / 1024).toFixed(1);
  process.stdout.write(
    `${events.toLocaleString('en')} events: ${(run.bytes / 2 ** 20).toFixed(1)} MiB of CSV in ${run.seconds.toFixed(1)} s; ` +
      `server peak RSS ${mib(peak)} MiB (${mib(idle)} MiB before the export); counts ${run.trailers}\n`,
  );
}

const { counts, work } = options();
await mkdir(work, { recursive: true, mode: 0o700 });
for (const events of counts) await measure(work, events);
