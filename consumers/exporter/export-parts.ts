/**
 * A rendered export cut into parts of at most `partBytes` bytes, at any byte
 * boundary (a part may end inside a row or a UTF-8 character: the export is
 * the parts' concatenation). Each full part is handed to `put` before more is
 * accepted (the write callback waits for it), so memory stays bounded by the
 * part size plus one chunk of the renderer, whatever the size of the export.
 */
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { ConfigError } from '../../common/errors.js';
import type { ExportPart } from './export-request.js';

/** Stores part `index` and returns its key. */
export type PutPart = (index: number, body: Buffer) => Promise<string>;

export class ExportPartSink extends Writable {
  /** The parts stored so far, in order; complete once the stream has finished. */
  readonly parts: ExportPart[] = [];
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly put: PutPart,
    private readonly partBytes: number,
  ) {
    super({ decodeStrings: true });
    if (!Number.isSafeInteger(partBytes) || partBytes < 1)
      throw new ConfigError('partBytes', `must be a positive whole number, got ${partBytes}`);
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error) => void,
  ): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.storeFull().then(() => callback(), callback);
  }

  override _final(callback: (error?: Error) => void): void {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    (rest.length === 0 ? Promise.resolve() : this.store(rest)).then(() => callback(), callback);
  }

  /** Every full part in what is pending; the remainder (less than a part) is kept, copied. */
  private async storeFull(): Promise<void> {
    if (this.pending.length < this.partBytes) return;
    const all = this.pending;
    let start = 0;
    for (; all.length - start >= this.partBytes; start += this.partBytes)
      await this.store(all.subarray(start, start + this.partBytes));
    // a copy, so that the large buffer of a long chunk is not kept alive by its tail
    this.pending = Buffer.from(all.subarray(start));
  }

  private async store(body: Buffer): Promise<void> {
    const index = this.parts.length;
    const key = await this.put(index, body);
    this.parts.push({
      key,
      sha256: createHash('sha256').update(body).digest('hex'),
      bytes: body.length,
    });
  }
}
