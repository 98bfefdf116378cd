/**
 * Where a partition's archive ends: its objects in offset order, the offset
 * after the last one, the hash the chain goes on from, and the ids of its most
 * recent events (the duplicate window). The archive, not the source's commits,
 * is the record of progress.
 */
import { createHash } from 'node:crypto';
import { readContainerRecords } from '../../schemas/container.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import type { SchemaSet } from '../../schemas/schema-set.js';
import type { ObjectStore } from '../object-store/object-store.js';
import { type ArchivedObjectRef, classifyArchiveKey } from './archive-key.js';
import { CHAIN_START } from './archive-object.js';

/** The archived objects of one partition, in offset order. */
export async function archivedObjects(
  store: ObjectStore,
  prefix: string,
  topic: string,
  partition: number,
): Promise<ArchivedObjectRef[]> {
  const objects: ArchivedObjectRef[] = [];
  for await (const key of store.list(`${prefix}/dt=`)) {
    // strictly as verify classifies keys: a planted copy under a nested key is not resumed from
    const kind = classifyArchiveKey(prefix, key);
    if (kind.kind !== 'object') continue;
    const parsed = kind.object;
    if (parsed.topic !== topic || parsed.partition !== partition) continue;
    objects.push({ key, firstOffset: parsed.firstOffset, lastOffset: parsed.lastOffset });
  }
  return objects.sort((a, b) => a.lastOffset - b.lastOffset);
}

export interface ArchiveEnd {
  objects: ArchivedObjectRef[];
  /** The first offset not archived. */
  next: number;
  /** SHA-256 of the last object, or CHAIN_START. */
  prevSha256: string;
  /** Ids of the newest events, oldest first, at most `window` (whole objects, so a few more). */
  recentIds: string[];
}

export async function readArchiveEnd(
  store: ObjectStore,
  where: { prefix: string; topic: string; partition: number },
  schemas: SchemaSet,
  window: number,
): Promise<ArchiveEnd> {
  const objects = await archivedObjects(store, where.prefix, where.topic, where.partition);
  const last = objects.at(-1);
  if (last === undefined) return { objects, next: 0, prevSha256: CHAIN_START, recentIds: [] };
  const bytes = await store.get(last.key);
  // the newest ids first, until the window is full; then oldest first
  const idsNewestFirst: string[][] = [];
  let count = 0;
  for (let i = objects.length - 1; i >= 0 && count < window; i--) {
    const object = objects[i] as ArchivedObjectRef;
    const content = i === objects.length - 1 ? bytes : await store.get(object.key);
    const ids = [...readContainerRecords<AuditEventRecord>(content, schemas)].map((r) => r.id);
    idsNewestFirst.push(ids);
    count += ids.length;
  }
  return {
    objects,
    next: last.lastOffset + 1,
    prevSha256: createHash('sha256').update(bytes).digest('hex'),
    recentIds: idsNewestFirst.reverse().flat(),
  };
}
