/**
 * What an archive object holds, in a few header entries, so that a reader can
 * skip an object without reading its events (pure apart from node:crypto):
 * the smallest and largest event timestamp, and the packages it holds (the
 * sorted list when it is short, else a Bloom filter).
 *
 * The late-event index. An archive object lives under the hour of its first
 * record's append time (archive-key.ts); its events' own timestamps can be far
 * from it (an installer that was offline ships hours or days later; a clock
 * that runs ahead). The rule: for every event hour of an object that is more
 * than one hour away from the object's key hour, the archiver writes an empty
 * pointer object
 *
 *   <prefix>/_late/dt=YYYY-MM-DD/hour=HH/<the object's key below the prefix>
 *
 * named by the event hour. So the events of hour H are in the objects under
 * the key hours H-1, H and H+1, or in an object that a pointer under
 * `_late/` hour H names. A time-bounded export lists exactly those prefixes.
 * The pointers are written before the object, and verify checks them against
 * each object's header (a deleted pointer is reported).
 */
import { createHash } from 'node:crypto';
import { HOUR_MS, hourOf } from './archive-key.js';

export { HOUR_MS, hourOf, hourPath, latePointerKey, parseLatePointerKey } from './archive-key.js';

/** Header entries of the summary (beside archive-object.ts's META). */
export const SUMMARY_META = {
  minTimestamp: 'audit.min_timestamp',
  maxTimestamp: 'audit.max_timestamp',
  /** JSON array of the distinct package names, sorted; absent when the Bloom filter is used. */
  packages: 'audit.packages',
  /** `<hashes>:<bits>:<base64 bit array>`; absent when the list is used. */
  packagesBloom: 'audit.packages_bloom',
  /** JSON array of the event hours (ms) that have a late pointer; absent when none. */
  lateHours: 'audit.late_hours',
} as const;

/** The list is used up to this many distinct packages (and this many bytes of JSON). */
export const PACKAGE_LIST_MAX = 256;
export const PACKAGE_LIST_MAX_BYTES = 8192;
/** False-positive rate of the Bloom filter. */
export const BLOOM_FALSE_POSITIVE_RATE = 0.01;

export interface SummaryInput {
  timestamp: number;
  package_name: string | null;
}

/** Collects the summary of one batch as its events are added. */
export class ObjectSummaryBuilder {
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;
  private readonly packages = new Set<string>();
  private readonly hours = new Set<number>();

  add(event: SummaryInput): void {
    if (event.timestamp < this.min) this.min = event.timestamp;
    if (event.timestamp > this.max) this.max = event.timestamp;
    if (event.package_name !== null && event.package_name !== '')
      this.packages.add(event.package_name);
    this.hours.add(hourOf(event.timestamp));
  }

  /** Header entries for an object under `keyHour`; none for an object without events. */
  metadata(keyHour: number): Record<string, string> {
    if (!Number.isFinite(this.min)) return {};
    const names = [...this.packages].sort();
    const list = JSON.stringify(names);
    const entries: Record<string, string> = {
      [SUMMARY_META.minTimestamp]: String(this.min),
      [SUMMARY_META.maxTimestamp]: String(this.max),
    };
    if (names.length <= PACKAGE_LIST_MAX && Buffer.byteLength(list) <= PACKAGE_LIST_MAX_BYTES)
      entries[SUMMARY_META.packages] = list;
    else entries[SUMMARY_META.packagesBloom] = BloomFilter.of(names).encode();
    const late = this.farHours(keyHour);
    if (late.length > 0) entries[SUMMARY_META.lateHours] = JSON.stringify(late);
    return entries;
  }

  /** Event hours more than one hour away from `keyHour`: each gets a late pointer. */
  farHours(keyHour: number): number[] {
    return [...this.hours].filter((h) => Math.abs(h - keyHour) > HOUR_MS).sort((a, b) => a - b);
  }
}

/** A Bloom filter over strings; bit i of byte i>>3 is (1 << (i & 7)). */
export class BloomFilter {
  private constructor(
    readonly hashes: number,
    readonly bits: number,
    private readonly array: Buffer,
  ) {}

  static of(names: readonly string[]): BloomFilter {
    const n = Math.max(1, names.length);
    const bits = Math.max(
      64,
      Math.ceil((-n * Math.log(BLOOM_FALSE_POSITIVE_RATE)) / (Math.LN2 * Math.LN2)),
    );
    const hashes = Math.max(1, Math.round((bits / n) * Math.LN2));
    const filter = new BloomFilter(hashes, bits, Buffer.alloc(Math.ceil(bits / 8)));
    for (const name of names) for (const i of filter.positions(name)) filter.set(i);
    return filter;
  }

  static decode(text: string): BloomFilter | undefined {
    const m = /^(\d{1,3}):(\d{1,9}):([A-Za-z0-9+/=]*)$/.exec(text);
    if (m === null) return undefined;
    const hashes = Number(m[1]);
    const bits = Number(m[2]);
    const array = Buffer.from(m[3] as string, 'base64');
    if (hashes < 1 || bits < 1 || array.length !== Math.ceil(bits / 8)) return undefined;
    return new BloomFilter(hashes, bits, array);
  }

  encode(): string {
    return `${this.hashes}:${this.bits}:${this.array.toString('base64')}`;
  }

  mayContain(name: string): boolean {
    for (const i of this.positions(name))
      if (((this.array[i >> 3] as number) & (1 << (i & 7))) === 0) return false;
    return true;
  }

  private set(i: number): void {
    this.array[i >> 3] = (this.array[i >> 3] as number) | (1 << (i & 7));
  }

  /** Double hashing (Kirsch–Mitzenmacher) over two 32-bit words of SHA-256. */
  private *positions(name: string): Generator<number> {
    const digest = createHash('sha256').update(name, 'utf8').digest();
    const h1 = digest.readUInt32BE(0);
    const h2 = (digest.readUInt32BE(4) | 1) >>> 0; // odd, and unsigned (| gives a signed int32)
    for (let k = 0; k < this.hashes; k++) yield (h1 + k * h2) % this.bits;
  }
}

/** The event hours an object's header says have late pointers (verify checks each). */
export function lateHoursOf(metadata: Record<string, string>): number[] {
  const text = metadata[SUMMARY_META.lateHours];
  if (text === undefined) return [];
  try {
    const hours: unknown = JSON.parse(text);
    if (Array.isArray(hours) && hours.every((h) => Number.isSafeInteger(h) && h % HOUR_MS === 0))
      return hours as number[];
  } catch {
    // reported below as an unreadable entry
  }
  return [Number.NaN];
}

/** The summary as read back from an object's header. */
export interface ObjectSummary {
  minTimestamp: number;
  maxTimestamp: number;
  /** False only when the object certainly holds no event of the package. */
  mayHoldPackage(name: string): boolean;
}

/**
 * The summary in `metadata`, or undefined when the object has none (written
 * before summaries existed, or unreadable entries): such an object may hold
 * anything and is read.
 */
export function parseObjectSummary(metadata: Record<string, string>): ObjectSummary | undefined {
  const min = Number(metadata[SUMMARY_META.minTimestamp]);
  const max = Number(metadata[SUMMARY_META.maxTimestamp]);
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min > max) return undefined;
  const list = metadata[SUMMARY_META.packages];
  const bloom = metadata[SUMMARY_META.packagesBloom];
  let mayHoldPackage: (name: string) => boolean;
  if (list !== undefined) {
    let names: unknown;
    try {
      names = JSON.parse(list);
    } catch {
      // an unreadable list says nothing: the object is read
      return undefined;
    }
    if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) return undefined;
    const set = new Set<string>(names);
    mayHoldPackage = (name) => set.has(name);
  } else if (bloom !== undefined) {
    const filter = BloomFilter.decode(bloom);
    if (filter === undefined) return undefined;
    mayHoldPackage = (name) => filter.mayContain(name);
  } else return undefined;
  return { minTimestamp: min, maxTimestamp: max, mayHoldPackage };
}

/**
 * The hours to list for events with timestamps in [from, to): the key hours
 * (`dt=` folders, one hour either side) and the late-pointer hours. Undefined
 * bounds mean the whole archive (the caller lists everything).
 */
export function hoursToList(from: number, to: number): { keyHours: number[]; lateHours: number[] } {
  const first = hourOf(from);
  const last = hourOf(to - 1);
  const lateHours: number[] = [];
  for (let h = first; h <= last; h += HOUR_MS) lateHours.push(h);
  const keyHours: number[] = [];
  for (let h = first - HOUR_MS; h <= last + HOUR_MS; h += HOUR_MS) keyHours.push(h);
  return { keyHours, lateHours };
}
