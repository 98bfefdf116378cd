/**
 * The records this process appended to the spool and the broker has not
 * acknowledged yet, kept in memory as the Kafka messages they become, so that
 * the shipper sends them without reading the spool back or decoding them
 * (pure). Bounded by `maxBytes` of values: past it, records are not kept, and
 * the shipper reads those from the spool (a broker outage, a backlog from an
 * earlier run). What is kept is always a contiguous run of offsets.
 */
/** What is kept of a record: anything with its encoded value, whose length counts toward the bound. */
export interface KeptRecord {
  value: Uint8Array;
}

export class KeptRecords<T extends KeptRecord> {
  private readonly maxBytes: number;
  private records: T[] = [];
  /** Index in `records` of the oldest record still kept. */
  private head = 0;
  /** Spool offset of `records[head]`. */
  private base = 0;
  private bytes = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get size(): number {
    return this.records.length - this.head;
  }

  /** The offset after the newest kept record. */
  get end(): number {
    return this.base + this.size;
  }

  /**
   * Keeps the record appended at `offset` when it fits and follows the kept
   * run. Once one was not kept, none is until the run is released: then a new
   * run starts, and the shipper reads the records in between from the spool.
   */
  add(offset: number, record: T): void {
    if (this.size > 0 && offset !== this.end) return;
    if (this.bytes + record.value.length > this.maxBytes) return;
    if (this.size === 0) this.base = offset;
    this.records.push(record);
    this.bytes += record.value.length;
  }

  /**
   * Up to `maxRecords` kept records from `offset` on, at most `maxBytes` of
   * values (at least one record); none when `offset` is not kept.
   */
  take(offset: number, maxRecords: number, maxBytes: number): T[] {
    if (offset < this.base || offset >= this.end) return [];
    const start = this.head + (offset - this.base);
    const stop = Math.min(this.records.length, start + maxRecords);
    const out: T[] = [];
    let bytes = 0;
    for (let i = start; i < stop; i++) {
      const record = this.records[i] as T;
      if (out.length > 0 && bytes + record.value.length > maxBytes) break;
      out.push(record);
      bytes += record.value.length;
    }
    return out;
  }

  /** Forgets the records below `offset` (acknowledged by the broker). */
  release(offset: number): void {
    if (offset >= this.end) {
      this.clear();
      return;
    }
    while (this.base < offset) {
      this.bytes -= (this.records[this.head] as T).value.length;
      this.records[this.head] = undefined as unknown as T;
      this.head++;
      this.base++;
    }
    // compact now and then, so that released records do not hold their slots
    if (this.head > 4096 && this.head * 2 > this.records.length) {
      this.records = this.records.slice(this.head);
      this.head = 0;
    }
  }

  private clear(): void {
    this.records = [];
    this.head = 0;
    this.bytes = 0;
    this.base = this.end;
  }
}
