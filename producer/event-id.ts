/**
 * Event ids: UUID version 7 from the uuid package (RFC 9562: 48-bit Unix
 * milliseconds, then a 32-bit counter that starts at a random value each new
 * millisecond and counts up within it, then random bits), ordered as they are
 * made in this process.
 *
 * The package draws 16 fresh random bytes per id through
 * crypto.getRandomValues, most of the cost of an id; here they come from a
 * pool that one randomFillSync call refills every POOL_IDS ids. Given its
 * random bytes, the package leaves the counter to the caller, so the state
 * below keeps it exactly as the package does for its own ids.
 */
import { randomFillSync } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/** Ids per refill of the pool. */
const POOL_IDS = 512;
const ID_RANDOM_BYTES = 16;
const pool = new Uint8Array(POOL_IDS * ID_RANDOM_BYTES);
let used = POOL_IDS;

/** The time and counter of the last id. */
const last = { msecs: -Infinity, seq: 0 };

/** A new UUID v7, greater than every id this function returned before in this process. */
export function newEventId(now: number = Date.now()): string {
  if (used === POOL_IDS) {
    randomFillSync(pool);
    used = 0;
  }
  const random = pool.subarray(used * ID_RANDOM_BYTES, (used + 1) * ID_RANDOM_BYTES);
  used++;
  if (now > last.msecs) {
    // a new millisecond: the counter starts at 31 random bits, leaving room to count up
    last.seq =
      (((random[6] as number) & 0x7f) << 24) |
      ((random[7] as number) << 16) |
      ((random[8] as number) << 8) |
      (random[9] as number);
    last.msecs = now;
  } else {
    // the same millisecond (or a clock that stepped back): count up; past 2^32 borrow the next millisecond
    last.seq = (last.seq + 1) | 0;
    if (last.seq === 0) last.msecs++;
  }
  return uuidv7({ random, msecs: last.msecs, seq: last.seq });
}
