/**
 * Reads a spool from any offset, also while its writer appends, and releases
 * segments once everything in them is archived. A frame that is not complete yet
 * at the end of the newest segment is not returned (the writer may be in the
 * middle of it); damage anywhere else is a SPOOL_CORRUPT error.
 */
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { AuditErrorCode, StorageError } from '../errors.js';
import { isZeroTail, parseFrame } from './frame.js';
import { listSegments, segmentFileName } from './segments.js';

export interface SpoolRecord {
  offset: number;
  /** When the record was appended, ms since the epoch. */
  appendTime: number;
  value: Buffer;
}

const CHUNK = 1024 * 1024;

export class SpoolReader {
  readonly dir: string;
  /** Where the last read stopped, so that the next read need not rescan its segment. */
  private cursor: { base: number; offset: number; filePos: number } | undefined;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Up to `maxRecords` records from `fromOffset` on; fewer (or none) when the spool holds no more yet. */
  async read(fromOffset: number, maxRecords: number): Promise<SpoolRecord[]> {
    const segments = listSegments(this.dir);
    let index = segments.findLastIndex((base) => base <= fromOffset);
    if (index < 0) {
      if (segments.length === 0) return [];
      throw new StorageError(
        AuditErrorCode.NotFound,
        `spool ${this.dir} no longer holds offset ${fromOffset} (it starts at ${String(segments[0])})`,
      );
    }
    const out: SpoolRecord[] = [];
    let base = segments[index] as number;
    let filePos =
      this.cursor?.base === base && this.cursor.offset === fromOffset ? this.cursor.filePos : 0;
    let recordOffset = filePos === 0 ? base : fromOffset;
    for (;;) {
      const isLast = index === segments.length - 1;
      const result = await this.readSegment(
        base,
        filePos,
        recordOffset,
        fromOffset,
        maxRecords - out.length,
        isLast,
        out,
      );
      filePos = result.filePos;
      recordOffset = result.nextOffset;
      if (out.length >= maxRecords || isLast) break;
      const nextBase = segments[index + 1] as number;
      if (nextBase !== recordOffset) {
        throw new StorageError(
          AuditErrorCode.SpoolCorrupt,
          `spool segment ${segmentFileName(base)} ends at offset ${recordOffset} but the next segment starts at ${nextBase}`,
        );
      }
      index++;
      base = nextBase;
      filePos = 0;
    }
    this.cursor = { base, offset: recordOffset, filePos };
    return out;
  }

  /** The offset after the last complete record the spool holds now; 0 when it holds none. */
  async endOffset(): Promise<number> {
    const base = listSegments(this.dir).at(-1);
    if (base === undefined) return 0;
    // skipping every record: the newest segment is scanned, nothing is copied
    const end = Number.MAX_SAFE_INTEGER;
    return (await this.readSegment(base, 0, base, end, end, true, [])).nextOffset;
  }

  private async readSegment(
    base: number,
    startPos: number,
    startOffset: number,
    skipTo: number,
    limit: number,
    isLast: boolean,
    out: SpoolRecord[],
  ): Promise<{ filePos: number; nextOffset: number }> {
    const path = join(this.dir, segmentFileName(base));
    const handle = await open(path, 'r');
    try {
      const size = (await handle.stat()).size;
      let filePos = startPos;
      let nextOffset = startOffset;
      let taken = 0;
      let want = CHUNK;
      while (filePos < size && taken < limit) {
        const length = Math.min(Math.max(want, CHUNK), size - filePos);
        const chunk = Buffer.allocUnsafe(length);
        const { bytesRead } = await handle.read(chunk, 0, length, filePos);
        const buf = chunk.subarray(0, bytesRead);
        let pos = 0;
        for (;;) {
          const frame = parseFrame(buf, pos);
          if (frame.kind === 'frame') {
            if (nextOffset >= skipTo) {
              out.push({
                offset: nextOffset,
                appendTime: frame.appendTime,
                value: Buffer.from(frame.payload),
              });
              taken++;
            }
            nextOffset++;
            pos = frame.end;
            if (taken >= limit) break;
            continue;
          }
          if (frame.kind === 'incomplete') {
            if (filePos + pos === size) return { filePos: size, nextOffset }; // clean end of the segment
            if (filePos + bytesRead < size) {
              want = frame.needed; // the frame continues past this chunk
              break;
            }
            if (!isLast) throw this.corrupt(path, filePos + pos, 'segment ends inside a record');
            return { filePos: filePos + pos, nextOffset };
          }
          // at the end of the newest segment: a record being written, or a torn one the writer will cut
          const atEnd =
            filePos + frame.end >= size || (filePos + buf.length === size && isZeroTail(buf, pos));
          if (isLast && atEnd) return { filePos: filePos + pos, nextOffset };
          throw this.corrupt(path, filePos + pos, frame.reason);
        }
        filePos += pos;
      }
      return { filePos, nextOffset };
    } finally {
      await handle.close();
    }
  }

  private corrupt(path: string, at: number, reason: string): StorageError {
    return new StorageError(
      AuditErrorCode.SpoolCorrupt,
      `spool segment ${path} is damaged at byte ${at}: ${reason}`,
    );
  }

  /**
   * Deletes the segments whose every record is below `belowOffset` (already
   * archived). The newest segment is always kept, so offsets never restart.
   */
  async release(belowOffset: number): Promise<number> {
    const segments = listSegments(this.dir);
    let removed = 0;
    for (let i = 0; i < segments.length - 1; i++) {
      const nextBase = segments[i + 1] as number;
      if (nextBase > belowOffset) break;
      await unlink(join(this.dir, segmentFileName(segments[i] as number))).catch(
        (error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        },
      );
      removed++;
    }
    return removed;
  }
}
