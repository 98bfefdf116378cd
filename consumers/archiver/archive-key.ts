/**
 * The deterministic key of an archive object (pure):
 *
 *   <prefix>/dt=YYYY-MM-DD/hour=HH/<topic>/<partition>/<firstOffset 20 digits>-<lastOffset 20 digits>.avro
 *
 * Date and hour are those of the batch's first record (UTC), so a batch rebuilt
 * after a crash lands on the same key.
 */
export interface ArchiveKeyParts {
  prefix: string;
  topic: string;
  partition: number;
  firstOffset: number;
  lastOffset: number;
  /** Time of the batch's first record, ms since the epoch. */
  firstRecordTime: number;
}

const pad20 = (n: number): string => String(n).padStart(20, '0');
const pad2 = (n: number): string => String(n).padStart(2, '0');

export const HOUR_MS = 3_600_000;
export const hourOf = (time: number): number => Math.floor(time / HOUR_MS) * HOUR_MS;

export function archiveKeyFor(parts: ArchiveKeyParts): string {
  const t = new Date(parts.firstRecordTime);
  const dt = `${t.getUTCFullYear()}-${pad2(t.getUTCMonth() + 1)}-${pad2(t.getUTCDate())}`;
  return `${parts.prefix}/dt=${dt}/hour=${pad2(t.getUTCHours())}/${parts.topic}/${parts.partition}/${pad20(parts.firstOffset)}-${pad20(parts.lastOffset)}.avro`;
}

const KEY = /^(.+)\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/([^/]+)\/(\d+)\/(\d{20})-(\d{20})\.avro$/;

export interface ParsedArchiveKey {
  prefix: string;
  /** Start of the hour the key names, ms since the epoch. */
  hourStart: number;
  topic: string;
  partition: number;
  firstOffset: number;
  lastOffset: number;
}

/** The parts of an archive key, or undefined for any other key. */
export function parseArchiveKey(key: string): ParsedArchiveKey | undefined {
  const m = KEY.exec(key);
  if (m === null) return undefined;
  const [, prefix, dt, hour, topic, partition, first, last] = m as unknown as string[];
  const hourStart = Date.parse(`${dt}T${hour}:00:00Z`);
  if (Number.isNaN(hourStart)) return undefined;
  return {
    prefix: prefix as string,
    hourStart,
    topic: topic as string,
    partition: Number(partition),
    firstOffset: Number(first),
    lastOffset: Number(last),
  };
}

/** An archived object as its key describes it. */
export interface ArchivedObjectRef {
  key: string;
  firstOffset: number;
  lastOffset: number;
}

/** What a key under the archive prefix is. Anything else there is foreign. */
export type ArchiveKeyKind =
  | { kind: 'object'; object: ParsedArchiveKey }
  | { kind: 'digest'; topic: string; partition: number }
  | { kind: 'claim'; topic: string; partition: number }
  /** A late pointer (object-summary.ts): the event hour and the object it names. */
  | { kind: 'late'; eventHour: number; objectKey: string }
  | { kind: 'foreign' };

const DIGEST_PART = /^_digests\/([A-Za-z0-9._-]+)\/(\d+)\/\d{13}-\d{13}\.json$/;
const CLAIM_PART = /^_claims\/([A-Za-z0-9._-]+)\/(\d+)\/\d{20}$/;

/**
 * Classifies a key strictly: an archive object only when the key is exactly
 * what `archiveKeyFor` builds for the parts it names under `prefix` (no extra
 * folders, no other prefix), a digest or a claim only in their own folders of
 * the prefix. Verify and the exporter use this one function, so that both see
 * the same archive.
 */
export function classifyArchiveKey(prefix: string, key: string): ArchiveKeyKind {
  if (!key.startsWith(`${prefix}/`)) return { kind: 'foreign' };
  const rest = key.slice(prefix.length + 1);
  const digest = DIGEST_PART.exec(rest);
  if (digest !== null)
    return { kind: 'digest', topic: digest[1] as string, partition: Number(digest[2]) };
  const claim = CLAIM_PART.exec(rest);
  if (claim !== null)
    return { kind: 'claim', topic: claim[1] as string, partition: Number(claim[2]) };
  if (rest.startsWith('_late/')) {
    const late = parseLatePointerKey(prefix, key);
    return late === undefined ? { kind: 'foreign' } : { kind: 'late', ...late };
  }
  const object = parseArchiveKey(key);
  if (
    object !== undefined &&
    object.prefix === prefix &&
    /^[A-Za-z0-9._-]+$/.test(object.topic) &&
    archiveKeyFor({ ...object, firstRecordTime: object.hourStart }) === key
  )
    return { kind: 'object', object };
  return { kind: 'foreign' };
}

/** `topic/partition`, the name of a partition in reports and anchors. */
export const partitionId = (topic: string, partition: number): string => `${topic}/${partition}`;

/** `dt=YYYY-MM-DD/hour=HH` of the hour that starts at `hourStart`. */
export function hourPath(hourStart: number): string {
  const t = new Date(hourStart);
  return `dt=${t.getUTCFullYear()}-${pad2(t.getUTCMonth() + 1)}-${pad2(t.getUTCDate())}/hour=${pad2(t.getUTCHours())}`;
}

/** The key of the late pointer to `objectKey` (under `prefix`) for the event hour `eventHour`. */
export function latePointerKey(prefix: string, eventHour: number, objectKey: string): string {
  return `${prefix}/_late/${hourPath(eventHour)}/${objectKey.slice(prefix.length + 1)}`;
}

const LATE = /^_late\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/(.+)$/;

/**
 * The event hour and the object key a late pointer names, or undefined when
 * `key` is not exactly a late pointer under `prefix` to a well-formed
 * archive object key.
 */
export function parseLatePointerKey(
  prefix: string,
  key: string,
): { eventHour: number; objectKey: string } | undefined {
  if (!key.startsWith(`${prefix}/`)) return undefined;
  const m = LATE.exec(key.slice(prefix.length + 1));
  if (m === null) return undefined;
  const eventHour = Date.parse(`${m[1]}T${m[2]}:00:00Z`);
  if (Number.isNaN(eventHour)) return undefined;
  const objectKey = `${prefix}/${m[3]}`;
  const parsed = parseArchiveKey(objectKey);
  if (
    parsed === undefined ||
    parsed.prefix !== prefix ||
    archiveKeyFor({ ...parsed, firstRecordTime: parsed.hourStart }) !== objectKey ||
    latePointerKey(prefix, eventHour, objectKey) !== key
  )
    return undefined;
  return { eventHour, objectKey };
}
