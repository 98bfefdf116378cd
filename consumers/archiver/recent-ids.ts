/**
 * The ids of a partition's most recent events, to drop an event seen again (pure).
 *
 * Event ids are lower-case UUIDs (validated before they get here). Each is kept
 * as its 16 bytes in a ring of at most `capacity` slots, oldest overwritten
 * first, with an open-addressing index (linear probing, at most half full)
 * over the ring. Memory is fixed by the capacity: 16 bytes an id in the ring
 * and at most 16 in the index, in two typed arrays that the garbage collector
 * never traces, instead of a string and a set entry an id. The ring grows by
 * doubling up to the capacity, so a quiet partition holds little.
 *
 * The index hashes with a seed drawn per instance, so that ids chosen to
 * collide cannot be prepared in advance.
 */
import { randomInt } from 'node:crypto';
import { AuditErrorCode, ValidationError } from '../../common/errors.js';

const WORDS = 4;
const INITIAL_SLOTS = 1024;

/** One word into the hash (murmur3's block step). */
function mix(h: number, w: number): number {
  const k = Math.imul(w, 0xcc9e2d51);
  const x = h ^ Math.imul((k << 15) | (k >>> 17), 0x1b873593);
  return Math.imul((x << 13) | (x >>> 19), 5) + 0xe6546b64;
}

export class RecentIds {
  private readonly capacity: number;
  private readonly seed = randomInt(0, 2 ** 32 - 1) | 0;
  /** Slot i holds words 4i..4i+3 of an id. */
  private ring = new Uint32Array(0);
  /** Slot + 1 of the id hashed there, 0 when empty. */
  private index = new Int32Array(0);
  private mask = 0;
  private size = 0;
  /** The slot written next: once the ring is full, the oldest id's. */
  private next = 0;
  private readonly words = new Uint32Array(WORDS);

  constructor(capacity: number) {
    this.capacity = Math.max(1, Math.floor(capacity));
    this.resize(Math.min(this.capacity, INITIAL_SLOTS));
  }

  /** Ids remembered. */
  get length(): number {
    return this.size;
  }

  has(id: string): boolean {
    this.parse(id);
    return this.find() >= 0;
  }

  /**
   * Remembers `id`, forgetting the oldest beyond the capacity; false when it
   * was remembered already (an event is checked and remembered in one step).
   */
  add(id: string): boolean {
    this.parse(id);
    if (this.find() >= 0) return false;
    const slots = this.ring.length / WORDS;
    if (this.size === slots && slots < this.capacity)
      this.resize(Math.min(this.capacity, 2 * slots));
    if (this.size === this.ring.length / WORDS) this.forget(this.next);
    else this.size++;
    this.ring.set(this.words, this.next * WORDS);
    this.insert(this.next);
    this.next = (this.next + 1) % (this.ring.length / WORDS);
    return true;
  }

  /** Forgets everything, then remembers `ids` (oldest first). */
  reset(ids: readonly string[]): void {
    this.size = 0;
    this.next = 0;
    this.index.fill(0);
    for (const id of ids) this.add(id);
  }

  /** Reads a lower-case UUID into `words`; anything else is refused. */
  private parse(id: string): void {
    if (id.length !== 36)
      throw new ValidationError(
        AuditErrorCode.InvalidField,
        'id',
        `${JSON.stringify(id)} is not a UUID`,
      );
    let word = 0;
    let digits = 0;
    for (let i = 0; i < 36; i++) {
      if (i === 8 || i === 13 || i === 18 || i === 23) {
        if (id.charCodeAt(i) !== 0x2d) break;
        continue;
      }
      const c = id.charCodeAt(i);
      const value = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
      if (value < 0) break;
      word = (word << 4) | value;
      if (++digits % 8 === 0) {
        this.words[digits / 8 - 1] = word;
        word = 0;
      }
    }
    if (digits !== 32)
      throw new ValidationError(
        AuditErrorCode.InvalidField,
        'id',
        `${JSON.stringify(id)} is not a lower-case UUID`,
      );
  }

  /** Where words w0..w3 hash to in the index (murmur3's mixing, seeded). */
  private home(w0: number, w1: number, w2: number, w3: number): number {
    let h = mix(mix(mix(mix(this.seed, w0), w1), w2), w3);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h & this.mask;
  }

  private homeOfSlot(slot: number): number {
    const r = this.ring;
    const at = slot * WORDS;
    return this.home(
      r[at] as number,
      r[at + 1] as number,
      r[at + 2] as number,
      r[at + 3] as number,
    );
  }

  /** The index position holding the id in `words`, or -1. */
  private find(): number {
    const w = this.words;
    const r = this.ring;
    for (
      let i = this.home(w[0] as number, w[1] as number, w[2] as number, w[3] as number);
      ;
      i = (i + 1) & this.mask
    ) {
      const entry = this.index[i] as number;
      if (entry === 0) return -1;
      const at = (entry - 1) * WORDS;
      if (r[at] === w[0] && r[at + 1] === w[1] && r[at + 2] === w[2] && r[at + 3] === w[3])
        return i;
    }
  }

  private insert(slot: number): void {
    let i = this.homeOfSlot(slot);
    while (this.index[i] !== 0) i = (i + 1) & this.mask;
    this.index[i] = slot + 1;
  }

  /** Removes the id in `slot` from the index, moving back the entries probed past it. */
  private forget(slot: number): void {
    let hole = this.homeOfSlot(slot);
    while (this.index[hole] !== slot + 1) hole = (hole + 1) & this.mask;
    this.index[hole] = 0;
    for (let j = (hole + 1) & this.mask; this.index[j] !== 0; j = (j + 1) & this.mask) {
      const home = this.homeOfSlot((this.index[j] as number) - 1);
      // the entry at j may move into the hole unless its home lies cyclically in (hole, j]
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      this.index[hole] = this.index[j] as number;
      this.index[j] = 0;
      hole = j;
    }
  }

  /** A ring of `slots` slots (ids kept, in order, while the ring is not full) and its index. */
  private resize(slots: number): void {
    const ring = new Uint32Array(slots * WORDS);
    ring.set(this.ring.subarray(0, this.size * WORDS));
    this.ring = ring;
    let tableSize = 2;
    while (tableSize < 2 * slots) tableSize *= 2;
    this.index = new Int32Array(tableSize);
    this.mask = tableSize - 1;
    for (let slot = 0; slot < this.size; slot++) this.insert(slot);
    this.next = this.size % slots;
  }
}
