/**
 * The batching of the bare consumers of the consume_*_vs_kafkajs figures, the
 * same for every client: the raw values of each partition go into objects of
 * `batchEvents` events, cut also at the partition's end offset at start (the
 * consumer stops when every partition is done, as `archive --once` does).
 * Pure, tested in test/bench/clients-objects.test.ts.
 */

/** One object to write, then commit `next` for its partition. */
export interface ObjectToWrite {
  partition: number;
  /** Offset of the first value. */
  first: number;
  /** The offset to commit after the object is written: one past its last value. */
  next: number;
  values: Buffer[];
}

export class PartitionObjects {
  readonly #pending = new Map<number, { first: number; values: Buffer[] }>();
  readonly #ends: Map<number, number>;

  /** `ends`: each partition's end offset at start; partitions that are empty are left out. */
  constructor(
    ends: ReadonlyMap<number, number>,
    private readonly batchEvents: number,
  ) {
    if (!Number.isInteger(batchEvents) || batchEvents < 1)
      throw new RangeError(`batchEvents must be a positive integer, got ${batchEvents}`);
    this.#ends = new Map([...ends].filter(([, end]) => end > 0));
  }

  /** True when every partition has been cut up to its end offset. */
  get done(): boolean {
    return this.#ends.size === 0;
  }

  /** Whether a record at `offset` of `partition` is still to be archived. */
  wants(partition: number, offset: number): boolean {
    const end = this.#ends.get(partition);
    return end !== undefined && offset < end;
  }

  /**
   * Adds the value at `offset`; returns the object to write when it completes
   * one (`batchEvents` values, or the partition's last record), else undefined.
   * Records the partition does not want (past its end) are ignored.
   */
  add(partition: number, offset: number, value: Buffer): ObjectToWrite | undefined {
    if (!this.wants(partition, offset)) return undefined;
    let open = this.#pending.get(partition);
    if (open === undefined) {
      open = { first: offset, values: [] };
      this.#pending.set(partition, open);
    }
    open.values.push(value);
    const last = offset + 1 === this.#ends.get(partition);
    if (!last && open.values.length < this.batchEvents) return undefined;
    this.#pending.delete(partition);
    if (last) this.#ends.delete(partition);
    return { partition, first: open.first, next: offset + 1, values: open.values };
  }
}

/** An object's body: each value after its 4-byte big-endian length, as bench/kafka/bare-archiver.ts writes it. */
export function objectBody(values: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const value of values) {
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(value.length);
    parts.push(length, value);
  }
  return Buffer.concat(parts);
}

/** The key of an object: `<prefix>/<topic>/<partition>/<first offset, 20 digits>.bin`. */
export function objectKey(prefix: string, topic: string, object: ObjectToWrite): string {
  return `${prefix}/${topic}/${object.partition}/${String(object.first).padStart(20, '0')}.bin`;
}
