/**
 * The Avro bodies of one batch's events, copied into one buffer that the batch
 * owns (pure). Each body is stored after its length (u32 BE), which is exactly
 * the input of the events digest, so the digest is one hash over one buffer.
 *
 * Copying matters for memory: a body handed over by the Kafka client is a view
 * into the whole decompressed fetch, which a view kept in a batch would hold
 * alive until the batch is written; a copy frees the fetch once it is read.
 */
import { createHash } from 'node:crypto';

const LENGTH_SIZE = 4;
const INITIAL_BYTES = 64 * 1024;

export class PackedBodies {
  private bytes: Buffer;
  private used = 0;
  /** Where each body starts in `bytes` (after its length), and where the next would. */
  private readonly starts: number[] = [];

  constructor(initialBytes = INITIAL_BYTES) {
    this.bytes = Buffer.allocUnsafe(Math.max(LENGTH_SIZE, initialBytes));
  }

  static of(bodies: Iterable<Buffer>): PackedBodies {
    const packed = new PackedBodies();
    for (const body of bodies) packed.push(body);
    return packed;
  }

  /** Events held. */
  get count(): number {
    return this.starts.length;
  }

  /** Bytes of the bodies, lengths not counted. */
  get bodyBytes(): number {
    return this.used - LENGTH_SIZE * this.starts.length;
  }

  /** Copies `body` in after the bodies held. */
  push(body: Buffer): void {
    const needed = this.used + LENGTH_SIZE + body.length;
    if (needed > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.bytes.length * 2));
      this.bytes.copy(grown, 0, 0, this.used);
      this.bytes = grown;
    }
    this.bytes.writeUInt32BE(body.length, this.used);
    this.used += LENGTH_SIZE;
    this.starts.push(this.used);
    this.bytes.set(body, this.used); // TypedArray#set: no argument checks of Buffer#copy to pay per event
    this.used += body.length;
  }

  /** The body of event `index` (a view). */
  body(index: number): Buffer {
    const start = this.starts[index] as number;
    return this.bytes.subarray(start, start + this.bytes.readUInt32BE(start - LENGTH_SIZE));
  }

  /** SHA-256 (hex) of the bodies, each prefixed by its length (u32 BE). */
  digest(): string {
    return createHash('sha256').update(this.bytes.subarray(0, this.used)).digest('hex');
  }

  /** The bodies of events `from` (inclusive) to `to` (exclusive), back to back, in a new buffer. */
  concat(from: number, to: number): Buffer {
    let size = 0;
    for (let i = from; i < to; i++) size += this.bodyLength(i);
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    for (let i = from; i < to; i++) {
      const start = this.starts[i] as number;
      at += this.bytes.copy(out, at, start, start + this.bodyLength(i));
    }
    return out;
  }

  private bodyLength(index: number): number {
    return this.bytes.readUInt32BE((this.starts[index] as number) - LENGTH_SIZE);
  }
}
