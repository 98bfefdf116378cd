/**
 * The shipper's checkpoint: a file (`SHIPPED`) in the spool folder holding the
 * next spool offset to send, i.e. everything below it is acknowledged by the
 * broker. It is replaced atomically (temporary file, fdatasync, rename, folder
 * fsync) in the background, one write at a time: the shipper does not wait
 * for it between batches, and acknowledgements that arrive during a write are
 * folded into the next one. The file therefore trails the acknowledgements by
 * at most the batches acknowledged during one write; a crash then sends those
 * again (the same event ids, which the archiver drops as duplicates). Spool
 * segments are released only below what the file holds, so that a restart
 * never starts from a segment that is gone.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { writeFileAtomically } from '../common/atomic-file.js';
import { AuditErrorCode, StorageError } from '../common/errors.js';

export class ShipCheckpoint {
  readonly path: string;
  private readonly afterWrite: (offset: number) => Promise<unknown>;
  private readonly logger: Logger;
  /** The offset the file should hold. */
  private target = 0;
  /** The offset the file holds. */
  private written = 0;
  private writing: Promise<void> | undefined;
  private failure: StorageError | undefined;
  /** Checkpoint writes that failed (each one is retried with the next acknowledgement). */
  failures = 0;

  constructor(spoolDir: string, afterWrite: (offset: number) => Promise<unknown>, logger: Logger) {
    this.path = join(spoolDir, 'SHIPPED');
    this.afterWrite = afterWrite;
    this.logger = logger;
  }

  /** The offset in the file, or undefined when there is none yet (ENOENT); any other failure surfaces. */
  read(): number | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8').trim();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      // read as "nothing shipped", any other failure would send the whole spool again
      throw new StorageError(
        AuditErrorCode.Io,
        `cannot read the checkpoint ${this.path}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new StorageError(
        AuditErrorCode.SpoolCorrupt,
        `${this.path} does not hold an offset: "${text}"`,
      );
    }
    this.target = value;
    this.written = value;
    return value;
  }

  /** Everything below `offset` is acknowledged: the file follows in the background. */
  advance(offset: number): void {
    if (offset <= this.target) return;
    this.target = offset;
    this.writing ??= this.writeLoop();
  }

  /** Waits until the file holds the latest offset; rejects with the error of a write that failed. */
  async settle(): Promise<void> {
    if (this.writing !== undefined) await this.writing;
    if (this.written < this.target) {
      this.failure = undefined;
      this.writing = this.writeLoop();
      await this.writing;
    }
    if (this.failure !== undefined) throw this.failure;
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.written < this.target) {
        const offset = this.target;
        await writeFileAtomically(this.path, (temp) => writeFile(temp, `${offset}\n`));
        this.written = offset;
        this.failure = undefined;
        await this.afterWrite(offset);
      }
    } catch (error) {
      // the events are acknowledged either way; a checkpoint left behind only means resending them after a crash
      this.failure = new StorageError(
        AuditErrorCode.Io,
        `cannot write the checkpoint ${this.path}: ${(error as Error).message}`,
        { retriable: true, cause: error },
      );
      this.failures++;
      this.logger.warn(
        { err: (error as Error).message, path: this.path, failures: this.failures },
        'cannot write the shipping checkpoint, will retry with the next acknowledgement',
      );
    } finally {
      this.writing = undefined;
    }
  }
}
