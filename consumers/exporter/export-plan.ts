/**
 * Which archive objects an export lists and may need to read, from the
 * selection's time bounds alone (object-summary.ts has the rule): the objects
 * under the key hours of [from, to) and one hour either side, and the objects
 * that late pointers of the event hours in [from, to) name. Without bounds,
 * every archive object. The header summaries (time range, packages) prune
 * further when each object is opened (export-events.ts).
 *
 * The keys are classified strictly, as verify classifies them (a copy under a
 * nested folder or another prefix is never read), deduplicated, and ordered
 * by key (so by hour) with each partition's objects in offset order. Only the
 * keys are held in memory, never the objects.
 */
import { classifyArchiveKey, partitionId, type ParsedArchiveKey } from '../archiver/archive-key.js';
import {
  HOUR_MS,
  hourOf,
  hourPath,
  hoursToList,
  parseLatePointerKey,
} from '../archiver/object-summary.js';
import type { ObjectStore } from '../object-store/object-store.js';

/** Up to this many key hours are listed hour by hour (one listing each). */
export const HOURLY_LISTING_MAX = 48;
/** Up to this many days are listed day by day; longer ranges list the whole archive once. */
export const DAILY_LISTING_MAX = 400;

export interface PlannedObject extends ParsedArchiveKey {
  key: string;
  /** True when only a late pointer led to it (it may be gone: the pointer is checked when read). */
  onlyByPointer: boolean;
}

export interface PlanCounts {
  objectsListed: number;
  objectsSelected: number;
}

export interface PlanOptions {
  prefix: string;
  from?: number | undefined;
  to?: number | undefined;
  /** Only these partitions (`topic/partition`); all when absent. */
  expected?: readonly string[] | undefined;
  signal?: AbortSignal | undefined;
}

const dayPath = (time: number): string => hourPath(time).slice(0, 'dt=YYYY-MM-DD'.length);

/** The folders to list: whole hours, whole days, or everything. */
function listingPrefixes(
  prefix: string,
  keyHours: readonly number[] | undefined,
  lateHours: readonly number[] | undefined,
): { objects: string[]; late: string[] } {
  if (keyHours === undefined || lateHours === undefined)
    return { objects: [`${prefix}/dt=`], late: [`${prefix}/_late/dt=`] };
  if (keyHours.length <= HOURLY_LISTING_MAX)
    return {
      objects: keyHours.map((h) => `${prefix}/${hourPath(h)}/`),
      late: lateHours.map((h) => `${prefix}/_late/${hourPath(h)}/`),
    };
  const days = (hours: readonly number[]): string[] => [...new Set(hours.map(dayPath))];
  const keyDays = days(keyHours);
  if (keyDays.length > DAILY_LISTING_MAX)
    return { objects: [`${prefix}/dt=`], late: [`${prefix}/_late/dt=`] };
  return {
    objects: keyDays.map((d) => `${prefix}/${d}/`),
    late: days(lateHours).map((d) => `${prefix}/_late/${d}/`),
  };
}

/**
 * Key order, except that each partition's objects take the places its objects
 * hold in that order sorted by offset: an object's key hour is its first
 * record's time, which need not grow with the offset.
 */
function exportOrder(objects: PlannedObject[]): PlannedObject[] {
  const byKey = [...objects].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const slots = new Map<string, number[]>();
  byKey.forEach((o, i) => {
    const id = partitionId(o.topic, o.partition);
    const list = slots.get(id);
    if (list === undefined) slots.set(id, [i]);
    else list.push(i);
  });
  const ordered: PlannedObject[] = new Array<PlannedObject>(byKey.length);
  for (const indexes of slots.values()) {
    const inOffsetOrder = indexes
      .map((i) => byKey[i] as PlannedObject)
      .sort((a, b) => a.firstOffset - b.firstOffset || a.lastOffset - b.lastOffset);
    indexes.forEach((slot, n) => (ordered[slot] = inOffsetOrder[n] as PlannedObject));
  }
  return ordered;
}

/** What a plan covers, for checking that no object of it is missing (object-verifier.ts). */
export interface PlanCoverage {
  /** Every archive object key listed. */
  listed: ReadonlySet<string>;
  /** True for a key hour whose objects were all listed and selected. */
  keyHourWanted(hourStart: number): boolean;
  /** The smallest and largest key hour wanted; undefined bounds for the whole archive. */
  lowestKeyHour: number | undefined;
  highestKeyHour: number | undefined;
}

export interface Plan {
  /** The objects the export may need, in the order to read them. */
  objects: PlannedObject[];
  coverage: PlanCoverage;
}

/** The objects the export may need, in the order to read them; counts what was listed and selected. */
export async function planExport(
  store: ObjectStore,
  options: PlanOptions,
  counts: PlanCounts,
): Promise<Plan> {
  const { prefix, from, to, signal } = options;
  const bounded = from !== undefined && to !== undefined;
  const hours = bounded ? hoursToList(from, to) : undefined;
  const keyHourSet = hours === undefined ? undefined : new Set(hours.keyHours);
  const lateHourSet = hours === undefined ? undefined : new Set(hours.lateHours);
  // one bound only: the whole archive is listed, and the known bound still selects
  const lo = from === undefined ? Number.NEGATIVE_INFINITY : hourOf(from);
  const hi = to === undefined ? Number.POSITIVE_INFINITY : hourOf(to - 1);
  const keyHourWanted = (h: number): boolean =>
    keyHourSet !== undefined ? keyHourSet.has(h) : h >= lo - HOUR_MS && h <= hi + HOUR_MS;
  const eventHourWanted = (h: number): boolean =>
    lateHourSet !== undefined ? lateHourSet.has(h) : h >= lo && h <= hi;
  const only = options.expected === undefined ? undefined : new Set(options.expected);
  const inPartitions = (o: ParsedArchiveKey): boolean =>
    only === undefined || only.has(partitionId(o.topic, o.partition));

  const prefixes = listingPrefixes(prefix, hours?.keyHours, hours?.lateHours);
  const listed = new Set<string>();
  const selected = new Map<string, PlannedObject>();
  for (const folder of prefixes.objects) {
    for await (const key of store.list(folder)) {
      signal?.throwIfAborted();
      const kind = classifyArchiveKey(prefix, key);
      if (kind.kind !== 'object' || listed.has(key)) continue;
      listed.add(key);
      if (keyHourWanted(kind.object.hourStart) && inPartitions(kind.object))
        selected.set(key, { ...kind.object, key, onlyByPointer: false });
    }
  }
  for (const folder of prefixes.late) {
    for await (const key of store.list(folder)) {
      signal?.throwIfAborted();
      const pointer = parseLatePointerKey(prefix, key);
      if (pointer === undefined || !eventHourWanted(pointer.eventHour)) continue;
      if (selected.has(pointer.objectKey)) continue;
      const kind = classifyArchiveKey(prefix, pointer.objectKey);
      if (kind.kind !== 'object' || !inPartitions(kind.object)) continue;
      const wasListed = listed.has(pointer.objectKey);
      if (!wasListed) listed.add(pointer.objectKey);
      selected.set(pointer.objectKey, {
        ...kind.object,
        key: pointer.objectKey,
        onlyByPointer: !wasListed,
      });
    }
  }
  counts.objectsListed = listed.size;
  counts.objectsSelected = selected.size;
  return {
    objects: exportOrder([...selected.values()]),
    coverage: {
      listed,
      keyHourWanted,
      lowestKeyHour: from === undefined ? undefined : lo - HOUR_MS,
      highestKeyHour: to === undefined ? undefined : hi + HOUR_MS,
    },
  };
}
