/**
 * One line of progress on a terminal, redrawn in place: objects read of
 * objects selected, events, their rate and the time elapsed. On anything that
 * is not a terminal (a pipe, a file, a test) it writes nothing at all, so
 * logs and captured output stay clean.
 */
import type { ExportCounts } from '../consumers/exporter/export-events.js';

/** The part of a stream the line needs; process.stderr is one. */
export interface ProgressStream {
  isTTY?: boolean | undefined;
  columns?: number | undefined;
  write(text: string): unknown;
}

/** Redraws at most this often. */
const REDRAW_MS = 100;
const BAR_WIDTH = 20;

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(Math.floor(s / 60))}:${pad(s % 60)}`;
}

/** The line for `counts` after `elapsedMs` (pure). */
export function progressLine(counts: Readonly<ExportCounts>, elapsedMs: number): string {
  const done = counts.objectsRead + counts.objectsSkipped;
  const total = counts.objectsSelected;
  const filled = total === 0 ? 0 : Math.min(BAR_WIDTH, Math.round((done / total) * BAR_WIDTH));
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
  const rate = elapsedMs < 1 ? 0 : Math.round((counts.eventsMatched * 1000) / elapsedMs);
  return `${bar} objects ${counts.objectsRead} read of ${total} (${counts.objectsSkipped} skipped), ${counts.eventsMatched} events, ${rate}/s, ${clock(elapsedMs)}`;
}

export class ProgressBar {
  private readonly started: number;
  private lastDraw = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly stream: ProgressStream,
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
  }

  private get active(): boolean {
    return this.stream.isTTY === true;
  }

  update(counts: Readonly<ExportCounts>): void {
    if (!this.active) return;
    const now = this.now();
    if (now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    this.draw(counts, now);
  }

  /** Draws the final state and ends the line, so that what follows starts on a line of its own. */
  finish(counts: Readonly<ExportCounts>): void {
    if (!this.active) return;
    this.draw(counts, this.now());
    this.stream.write('\n');
  }

  private draw(counts: Readonly<ExportCounts>, now: number): void {
    const width = Math.max(20, (this.stream.columns ?? 80) - 1);
    // carriage return and erase line: the line is redrawn in place
    this.stream.write(`\r\x1b[2K${progressLine(counts, now - this.started).slice(0, width)}`);
  }
}
