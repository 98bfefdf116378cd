/**
 * The spool: an append-only log of encoded events in segment files, written by
 * one process at a time (a LOCK file holds the writer's pid).
 *
 * Durability: `append` copies the frame into a write buffer, which goes to the
 * file when it exceeds `bufferBytes` or `lingerMs` after the first buffered frame.
 * A record is durable once `flush()` resolves: its bytes are written and
 * fdatasync'ed. Written records survive a kill -9 of the process; flushed ones
 * survive a power loss too.
 *
 * Backpressure: the buffer is bounded (a full buffer is written synchronously
 * before the next append returns); the spool on disk is bounded by `maxBytes`,
 * beyond which `append` refuses with a retriable SPOOL_FULL error and writes nothing.
 */
import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { AuditErrorCode, ConfigError, StorageError } from '../errors.js';
import { positiveIntegerOption } from '../options.js';
import { makePrivateFolderSync } from '../atomic-file.js';
import { FRAME_HEADER_SIZE, isZeroTail, parseFrame, writeFrame } from './frame.js';
import { listSegments, segmentFileName } from './segments.js';

const fdatasyncAsync = promisify(fdatasync);

export interface SpoolOptions {
  /** Folder of the segment files; created if missing. */
  dir: string;
  /** A segment is closed and a new one started beyond this size. @defaultValue 64 MiB */
  segmentBytes?: number;
  /** Total size of all segments beyond which `append` refuses. @defaultValue 4 GiB */
  maxBytes?: number;
  /** Write buffer size. @defaultValue 256 KiB */
  bufferBytes?: number;
  /** How long a buffered frame may wait before it is written. @defaultValue 5 ms */
  lingerMs?: number;
}

export const SPOOL_DEFAULTS = {
  segmentBytes: 64 * 1024 * 1024,
  maxBytes: 4 * 1024 * 1024 * 1024,
  bufferBytes: 256 * 1024,
  lingerMs: 5,
} as const satisfies Partial<SpoolOptions>;

export interface SpoolRecovery {
  /** Bytes cut from a torn tail of the last segment when the spool was opened. */
  truncatedBytes: number;
  /** Segment file that was cut, if any. */
  segment: string | undefined;
}

/**
 * Room in the write buffer past `bufferBytes`: the buffer holds less than
 * `bufferBytes` before an append, so every frame up to this size fits without
 * growing it (a larger one grows it for that write).
 */
const BUFFER_HEADROOM = 64 * 1024;

/** Spool folders this process holds, so that a second writer in the same process is refused too. */
const heldHere = new Set<string>();

function lockSpool(dir: string): string {
  const lockPath = join(resolve(dir), 'LOCK');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockPath, String(process.pid), { flag: 'wx', mode: 0o600 });
      heldHere.add(lockPath);
      return lockPath;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(lockPath, 'utf8'));
      // the same pid as ours is a lock of this process, or of an earlier process that had our pid
      const held =
        holder === process.pid
          ? heldHere.has(lockPath)
          : Number.isInteger(holder) && holder > 0 && isAlive(holder);
      if (held) {
        throw new StorageError(
          AuditErrorCode.SpoolLocked,
          `spool ${dir} is in use by process ${holder}`,
          { retriable: true },
        );
      }
      unlinkSync(lockPath); // left by a process that is gone
    }
  }
  throw new StorageError(AuditErrorCode.SpoolLocked, `could not lock spool ${dir}`, {
    retriable: true,
  });
}

function unlockSpool(lockPath: string): void {
  heldHere.delete(lockPath);
  unlinkSync(lockPath);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return false; // no such process
    if (code === 'EPERM') return true; // alive, another user's
    throw error;
  }
}

/** Scans a segment; cuts a torn tail, throws on damage before the tail. Returns records and bytes cut. */
function recoverSegment(path: string): { records: number; truncatedBytes: number } {
  const bytes = readFileSync(path);
  let pos = 0;
  let records = 0;
  while (pos < bytes.length) {
    const frame = parseFrame(bytes, pos);
    if (frame.kind === 'frame') {
      records++;
      pos = frame.end;
      continue;
    }
    // A torn write only ever damages the last frame: whatever reaches the end of the file.
    if (frame.kind === 'bad' && frame.end < bytes.length && !isZeroTail(bytes, pos)) {
      throw new StorageError(
        AuditErrorCode.SpoolCorrupt,
        `spool segment ${path} is damaged at byte ${pos} (${frame.reason}) with ${bytes.length - frame.end} bytes after it`,
      );
    }
    break;
  }
  const truncatedBytes = bytes.length - pos;
  if (truncatedBytes > 0) ftruncateSyncPath(path, pos);
  return { records, truncatedBytes };
}

function ftruncateSyncPath(path: string, length: number): void {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, length);
  } finally {
    closeSync(fd);
  }
}

export class Spool {
  readonly dir: string;
  readonly recovery: SpoolRecovery;
  private readonly options: Required<Omit<SpoolOptions, 'dir'>>;
  private readonly lockPath: string;
  private fd: number;
  private segmentBase: number;
  private segmentSize: number;
  private totalBytes: number;
  private next: number;
  /** The write buffer: frames appended since the last write, back to back from byte 0. */
  private buffer: Buffer;
  private bufferedBytes = 0;
  private bufferedRecords = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: SpoolOptions) {
    if (typeof options?.dir !== 'string' || options.dir.length === 0)
      throw new ConfigError('spool.dir', 'must be a folder path');
    this.options = {
      segmentBytes: positiveIntegerOption(
        'spool.segmentBytes',
        options.segmentBytes,
        SPOOL_DEFAULTS.segmentBytes,
      ),
      maxBytes: positiveIntegerOption('spool.maxBytes', options.maxBytes, SPOOL_DEFAULTS.maxBytes),
      bufferBytes: positiveIntegerOption(
        'spool.bufferBytes',
        options.bufferBytes,
        SPOOL_DEFAULTS.bufferBytes,
      ),
      lingerMs: positiveIntegerOption('spool.lingerMs', options.lingerMs, SPOOL_DEFAULTS.lingerMs),
    };
    this.buffer = Buffer.allocUnsafe(this.options.bufferBytes + BUFFER_HEADROOM);
    this.dir = options.dir;
    makePrivateFolderSync(this.dir);
    this.lockPath = lockSpool(this.dir);
    try {
      const segments = listSegments(this.dir);
      this.totalBytes = segments.reduce(
        (sum, base) => sum + statSync(join(this.dir, segmentFileName(base))).size,
        0,
      );
      const last = segments.at(-1);
      this.recovery = { truncatedBytes: 0, segment: undefined };
      if (last === undefined) {
        this.segmentBase = 0;
        this.next = 0;
      } else {
        const path = join(this.dir, segmentFileName(last));
        const { records, truncatedBytes } = recoverSegment(path);
        this.recovery = { truncatedBytes, segment: truncatedBytes > 0 ? path : undefined };
        this.totalBytes -= truncatedBytes;
        this.segmentBase = last;
        this.next = last + records;
      }
      this.fd = openSync(join(this.dir, segmentFileName(this.segmentBase)), 'a', 0o600);
      this.segmentSize = fstatSync(this.fd).size;
    } catch (error) {
      unlockSpool(this.lockPath);
      throw error;
    }
  }

  /** The offset the next appended record gets. */
  get nextOffset(): number {
    return this.next;
  }

  /** Records appended but not yet written to the file: lost if the process ends now. */
  /** Bytes of the spool's segments, with what is buffered to be written. */
  get sizeBytes(): number {
    return this.totalBytes + this.bufferedBytes;
  }

  get unwrittenRecords(): number {
    return this.bufferedRecords;
  }

  /** Appends one payload; returns its offset. Durable after the next `flush()` resolves. */
  append(payload: Buffer, appendTime: number = Date.now()): number {
    this.assertOpen();
    const frameLength = FRAME_HEADER_SIZE + payload.length;
    if (this.totalBytes + this.bufferedBytes + frameLength > this.options.maxBytes) {
      this.totalBytes = this.measureTotal();
      if (this.totalBytes + this.bufferedBytes + frameLength > this.options.maxBytes) {
        throw new StorageError(
          AuditErrorCode.SpoolFull,
          `spool ${this.dir} holds ${this.totalBytes} bytes, the limit (spool.maxBytes) is ${this.options.maxBytes}`,
          { retriable: true },
        );
      }
    }
    if (
      this.segmentSize + this.bufferedBytes > 0 &&
      this.segmentSize + this.bufferedBytes + frameLength > this.options.segmentBytes
    ) {
      this.writeBuffered();
      this.roll();
    }
    if (this.bufferedBytes + frameLength > this.buffer.length) {
      // a frame larger than the room left (the buffer holds less than bufferBytes before an append)
      const larger = Buffer.allocUnsafe(this.bufferedBytes + frameLength);
      this.buffer.copy(larger, 0, 0, this.bufferedBytes);
      this.buffer = larger;
    }
    writeFrame(this.buffer, this.bufferedBytes, payload, appendTime);
    this.bufferedBytes += frameLength;
    this.bufferedRecords++;
    if (this.bufferedBytes >= this.options.bufferBytes) {
      try {
        this.writeBuffered();
      } catch (error) {
        // this append fails, so its record must never reach the file: take it back out
        this.bufferedBytes -= frameLength;
        this.bufferedRecords--;
        throw error;
      }
    } else
      this.timer ??= setTimeout(() => this.writeBufferedQuietly(), this.options.lingerMs).unref();
    return this.next++;
  }

  /**
   * Writes everything appended so far to the file, without waiting for stable
   * storage: readers see it and a kill -9 keeps it (a power loss may not).
   */
  writeAppended(): void {
    this.assertOpen();
    this.writeBuffered();
  }

  /** Writes everything appended so far and waits until it is on stable storage. */
  async flush(): Promise<void> {
    this.assertOpen();
    this.writeBuffered();
    await fdatasyncAsync(this.fd);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    closeSync(this.fd);
    unlockSpool(this.lockPath);
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageError(AuditErrorCode.Closed, `spool ${this.dir} is closed`);
  }

  private writeBufferedQuietly(): void {
    this.timer = undefined;
    if (this.closed) return;
    // Errors surface on the next append or flush, which write again.
    try {
      this.writeBuffered();
    } catch (error) {
      // a failed write (StorageError) keeps its records in the buffer; the next explicit write reports it
      if (!(error instanceof StorageError)) throw error;
    }
  }

  private writeBuffered(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.bufferedBytes === 0) return;
    const data = this.buffer.subarray(0, this.bufferedBytes);
    let written = 0;
    try {
      while (written < data.length) written += writeSync(this.fd, data, written);
    } catch (cause) {
      // Cut what this write got into the file, so that no record is half there: the buffered
      // records stay whole in the buffer (they were accepted) and the next write starts afresh.
      if (written > 0) this.cutTo(this.segmentSize, cause);
      throw new StorageError(
        AuditErrorCode.Io,
        `cannot write spool ${this.dir}: ${(cause as Error).message}`,
        { retriable: true, cause },
      );
    }
    this.segmentSize += data.length;
    this.totalBytes += data.length;
    this.bufferedBytes = 0;
    this.bufferedRecords = 0;
    // a buffer grown for one large frame is not kept
    if (this.buffer.length > this.options.bufferBytes + BUFFER_HEADROOM)
      this.buffer = Buffer.allocUnsafe(this.options.bufferBytes + BUFFER_HEADROOM);
  }

  /** Truncates the segment to `size`; if even that fails, the spool refuses every write from now on. */
  private cutTo(size: number, cause: unknown): void {
    try {
      ftruncateSync(this.fd, size);
    } catch (error) {
      this.closed = true;
      throw new StorageError(
        AuditErrorCode.SpoolCorrupt,
        `spool ${this.dir}: a failed write (${(cause as Error).message}) left part of a record that cannot be cut (${(error as Error).message}); reopen the spool, which cuts torn tails`,
        { cause: error },
      );
    }
  }

  private roll(): void {
    // the old segment is complete: make it durable before starting the next one
    fdatasyncSync(this.fd);
    closeSync(this.fd);
    this.segmentBase = this.next;
    this.fd = openSync(join(this.dir, segmentFileName(this.segmentBase)), 'a', 0o600);
    this.segmentSize = 0;
  }

  private measureTotal(): number {
    return listSegments(this.dir).reduce((sum, base) => {
      try {
        return sum + statSync(join(this.dir, segmentFileName(base))).size;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        return sum; // removed by a reader's release since the listing
      }
    }, 0);
  }
}
