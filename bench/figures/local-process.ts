/**
 * Local figures measured on child processes of the CLI, no stack needed: the
 * peak RSS of the HTTP service while it streams an export, and the demo end to
 * end against a bare JSON-lines pipeline.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tokenLine } from '../../consumers/exporter/http/tokens.js';
import type { BenchContext, Figure } from '../figure.js';
import {
  childEnv,
  CLI,
  demoArchive,
  peakRssKiB,
  runNode,
  secondsSince,
} from '../local-fixtures.js';

const DEMO_BASELINE = fileURLToPath(new URL('../demo-baseline.js', import.meta.url));
const TOKEN = 'bench-token-not-secret-0123456789abcdefghijkl';

/** A CSV export streamed from `url`: its bytes and its counts trailer. */
function streamCsv(url: string): Promise<{ bytes: number; counts: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}v1/events?format=csv`,
      { headers: { Authorization: `Bearer ${TOKEN}` } },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`GET /v1/events answered ${res.statusCode}`));
          return;
        }
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () => resolve({ bytes, counts: res.trailers['x-audit-counts'] ?? '' }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * Peak RSS (MiB) of `audit-trail serve` over `archive` while one direct CSV
 * export of all its events streams to a byte counter: the server is its own
 * process, VmHWM is read from /proc after the export, before SIGTERM.
 */
async function serveExportPeakMiB(ctx: BenchContext, archive: string, events: number) {
  const env = childEnv({
    AUDIT_ARCHIVE_DIR: archive,
    AUDIT_HTTP_TOKENS_FILE: join(ctx.work, 'tokens'),
    AUDIT_SPOOL_DIR: join(ctx.work, 'access-spool'),
  });
  const server = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
    cwd: ctx.work,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  server.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = once(server, 'exit');
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout.setEncoding('utf8').on('data', (text: string) => {
        out += text;
        const match = /listening on (\S+)/.exec(out);
        if (match?.[1] !== undefined) resolve(match[1]);
      });
      void exited.then(() => reject(new Error(`serve ended before listening: ${stderr.trim()}`)));
    });
    const pid = server.pid as number;
    const idle = await peakRssKiB(pid);
    const run = await streamCsv(url);
    const peak = await peakRssKiB(pid);
    const matched = (JSON.parse(run.counts || '{}') as { eventsMatched?: number }).eventsMatched;
    if (matched !== events)
      throw new Error(`the export counted ${run.counts || 'nothing'}, not ${events} events`);
    ctx.log(
      `${events} events: ${(run.bytes / 2 ** 20).toFixed(1)} MiB of CSV, peak RSS ${(peak / 1024).toFixed(1)} MiB (${(idle / 1024).toFixed(1)} MiB before the export)`,
    );
    return peak / 1024;
  } finally {
    server.kill('SIGTERM');
    await exited;
  }
}

function rssExportFigure(): Figure {
  const archives = { large: '', small: '' };
  const counts = (ctx: BenchContext) => ({
    large: ctx.size(1_000_000, 100_000),
    small: ctx.size(100_000, 10_000),
  });
  return {
    name: 'rss_export_1m_vs_100k',
    unit: 'MiB',
    better: 'lower',
    description:
      'Peak RSS (VmHWM from /proc) of audit-trail serve, its own process, after one direct CSV export (GET /v1/events?format=csv, no filter) of a local archive built by audit-trail demo (objects of 10,000 events) streamed to a byte counter. Ours: an archive of 1,000,000 events. Baseline: an archive of 100,000 events (quick: 100,000 and 10,000). A ratio near 1: memory does not grow with the export.',
    needsStack: false,
    async setup(ctx) {
      await writeFile(join(ctx.work, 'tokens'), tokenLine('bench', TOKEN), { mode: 0o600 });
      for (const size of ['large', 'small'] as const) {
        const dir = join(ctx.work, size);
        await mkdir(dir, { recursive: true });
        ctx.log(`building an archive of ${counts(ctx)[size]} events (audit-trail demo)`);
        archives[size] = await demoArchive(dir, counts(ctx)[size]);
      }
    },
    ours: (ctx) => serveExportPeakMiB(ctx, archives.large, counts(ctx).large),
    baseline: (ctx) => serveExportPeakMiB(ctx, archives.small, counts(ctx).small),
  };
}

/** Events per second of `node args` run to its end, its output folder emptied afterwards. */
async function eventsPerSecond(ctx: BenchContext, name: string, args: string[], events: number) {
  const dir = join(ctx.work, name);
  await mkdir(dir, { recursive: true });
  const start = process.hrtime.bigint();
  await runNode(
    args.map((arg) => (arg === 'DIR' ? dir : arg)),
    dir,
  );
  const seconds = secondsSince(start);
  await rm(dir, { recursive: true, force: true });
  return events / seconds;
}

function demoFigure(): Figure {
  const events = (ctx: BenchContext): number => ctx.size(1_000_000, 50_000);
  return {
    name: 'demo_1m',
    unit: 'events/s',
    better: 'higher',
    description:
      'Events per second, each side its own process, from spawn to exit. Ours: audit-trail demo --events N (simulation, validation, spool, archiver to deflate objects, JSON and CSV exports read back from the archive). Baseline, not a pipeline of ours: the same number of simulator events written as JSON lines to one file and fsync-ed, then read back and rendered to JSON (JSON.stringify per row) and CSV (csv-stringify) by bench/demo-baseline.ts. N = 1,000,000 (quick: 50,000).',
    needsStack: false,
    ours: (ctx) =>
      eventsPerSecond(
        ctx,
        'ours',
        [CLI, 'demo', '--events', String(events(ctx)), '--out', 'DIR'],
        events(ctx),
      ),
    baseline: (ctx) =>
      eventsPerSecond(ctx, 'baseline', [DEMO_BASELINE, String(events(ctx)), 'DIR'], events(ctx)),
  };
}

export const figures: Figure[] = [rssExportFigure(), demoFigure()];
