/**
 * The state one rule keeps for one key (pure, bounded). Time is event time in
 * milliseconds; each state follows the newest event time it has seen, so that
 * the same events in the same order always give the same answers, whatever
 * the wall clock says.
 */

export interface Sighting {
  time: number;
  id: string;
}

function before(a: Sighting, b: Sighting): boolean {
  return a.time < b.time || (a.time === b.time && a.id < b.id);
}

/** Inserts `s` into `list`, kept in (time, id) order. */
function insertSorted(list: Sighting[], s: Sighting): void {
  let i = list.length;
  while (i > 0 && before(s, list[i - 1]!)) i--;
  list.splice(i, 0, s);
}

/**
 * Counts matching events of one key within a window of event time and says
 * when `threshold` of them lie in [newest - window, newest]. Only the newest
 * `threshold` sightings are kept: an older one can never be part of a count
 * again, since the window's start only moves forward. After it fires, the
 * sightings it reported are spent, events no later than the alert are part
 * of that alert, and it does not fire again until the newest time is
 * `cooldown` past the alert.
 */
export class WindowCounter {
  private sightings: Sighting[] = [];
  private newest = Number.NEGATIVE_INFINITY;
  private lastAlert: number | null = null;

  constructor(
    private readonly threshold: number,
    private readonly windowMs: number,
    private readonly cooldownMs: number,
  ) {}

  /** Counts one event; returns the sightings that complete a trigger (time order), or null. */
  add(time: number, id: string): Sighting[] | null {
    this.newest = Math.max(this.newest, time);
    const start = this.newest - this.windowMs;
    if (time < start) return null; // too late for any window still open (pruning would drop it)
    if (this.lastAlert !== null && time <= this.lastAlert) return null;
    if (this.sightings.some((s) => s.id === id)) return null; // the same event delivered again
    insertSorted(this.sightings, { time, id });
    let drop = 0;
    while (drop < this.sightings.length && this.sightings[drop]!.time < start) drop++;
    drop = Math.max(drop, this.sightings.length - this.threshold);
    if (drop > 0) this.sightings.splice(0, drop);
    if (this.sightings.length < this.threshold) return null;
    if (this.lastAlert !== null && this.newest < this.lastAlert + this.cooldownMs) return null;
    const fired = this.sightings;
    this.sightings = [];
    this.lastAlert = this.newest;
    return fired;
  }
}

export interface Scan extends Sighting {
  /** `details.max_severity` as the scan wrote it. */
  maxSeverity: string;
  /** `details.advisories` as the scan wrote it, when it did. */
  advisories: string | undefined;
}

/** Vulnerable scans kept per package version; beyond this the oldest are dropped. */
export const MAX_SCANS_PER_VERSION = 16;

/**
 * The vulnerable scans of one package's versions within the window, and when
 * each version last raised an alert.
 */
export class VulnerableScans {
  private readonly scans = new Map<string, Scan[]>();
  private readonly alerted = new Map<string, number>();
  private newest = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly windowMs: number,
    private readonly cooldownMs: number,
  ) {}

  private advance(time: number): void {
    this.newest = Math.max(this.newest, time);
    const start = this.newest - this.windowMs;
    for (const [version, list] of this.scans) {
      const drop = list.findIndex((s) => s.time >= start);
      if (drop === -1) this.scans.delete(version);
      else if (drop > 0) list.splice(0, drop);
    }
    for (const [version, at] of this.alerted)
      if (this.newest >= at + this.cooldownMs) this.alerted.delete(version);
  }

  /** Records a vulnerable scan of `version`. */
  scan(version: string, scan: Scan): void {
    this.advance(scan.time);
    if (scan.time < this.newest - this.windowMs) return;
    const list = this.scans.get(version) ?? [];
    if (list.some((s) => s.id === scan.id)) return;
    insertSorted(list, scan);
    if (list.length > MAX_SCANS_PER_VERSION) list.splice(0, list.length - MAX_SCANS_PER_VERSION);
    this.scans.set(version, list);
  }

  /**
   * An install of `version` at `time`: the latest vulnerable scan of that
   * version in [time - window, time], unless the version raised an alert less
   * than the cooldown ago; null when there is none. Marks the version alerted.
   */
  install(version: string, time: number): Scan | null {
    this.advance(time);
    if (this.alerted.has(version)) return null;
    const list = this.scans.get(version) ?? [];
    const scan = list.findLast((s) => s.time <= time && s.time >= time - this.windowMs);
    if (scan === undefined) return null;
    this.alerted.set(version, this.newest);
    return scan;
  }
}

/**
 * The addresses one user was seen from, each with when it was last seen. An
 * address not seen within the window is forgotten; at most `max` are kept,
 * and beyond that the one refreshed longest ago (in the order events arrive)
 * is dropped.
 */
export class KnownAddresses {
  /** Address -> newest time seen; Map order is the order of the last refresh. */
  private readonly addresses = new Map<string, number>();
  private newest = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly windowMs: number,
    private readonly max: number,
  ) {}

  /**
   * Notes that the user acted from `ip` at `time`; returns the number of other
   * addresses known for the user when `ip` is new and the user was seen
   * before within the window, else null (known address, first sighting, or an
   * event older than the window).
   */
  see(ip: string, time: number): number | null {
    const previous = this.newest;
    this.newest = Math.max(this.newest, time);
    const start = this.newest - this.windowMs;
    if (time < start) return null;
    for (const [address, last] of this.addresses) {
      if (last >= start) break;
      this.addresses.delete(address);
    }
    const last = this.addresses.get(ip);
    const known = last !== undefined && last >= start;
    const alert = !known && previous >= start;
    const others = alert ? [...this.addresses.values()].filter((t) => t >= start).length : 0;
    this.addresses.delete(ip);
    this.addresses.set(ip, Math.max(last ?? time, time));
    if (this.addresses.size > this.max) {
      const oldest = this.addresses.keys().next();
      if (oldest.done !== true) this.addresses.delete(oldest.value);
    }
    return alert ? others : null;
  }
}
