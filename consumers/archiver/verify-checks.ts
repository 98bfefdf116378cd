/**
 * The checks that `verify` (the whole archive) and a verified export (the
 * objects it reads) share, so that both judge an object and a digest alike
 * (pure apart from node:crypto).
 */
import { createHash } from 'node:crypto';
import { META } from './archive-object.js';
import type { Digest } from './digest.js';

export const objectSha256 = (bytes: Buffer): string =>
  createHash('sha256').update(bytes).digest('hex');

export const BAD_SIGNATURE_DETAIL =
  'the signature does not match the digest and the verification key (edited, or signed with another key)';

/** Why `digest` does not follow `previous`, the valid digest before it in its partition; undefined when it does. */
export function digestLinkProblem(
  digest: Digest,
  previous: { key: string; digest: Digest },
): string | undefined {
  if (
    digest.previous_digest_key !== previous.key ||
    digest.previous_digest_signature !== previous.digest.signature
  )
    return `does not link to the digest before it (${previous.key})`;
  if (digest.interval_start !== previous.digest.interval_end)
    return `starts at ${digest.interval_start}, the previous digest ended at ${previous.digest.interval_end}`;
  return undefined;
}

/** True when the newest valid digest of a partition ended within the grace period before `now`. */
export function digestFresh(intervalEnd: string, now: number, graceMs: number): boolean {
  return Date.parse(intervalEnd) >= now - graceMs;
}

export const CHAIN_LINK_DETAIL = 'its hash-chain link does not match the object before it';
export const OFFSETS_DETAIL = 'its offsets do not match its key';

/** True when the object's header names the offsets its key names. */
export function headerOffsetsMatch(
  metadata: Record<string, string>,
  object: { firstOffset: number; lastOffset: number },
): boolean {
  return (
    metadata[META.firstOffset] === String(object.firstOffset) &&
    metadata[META.lastOffset] === String(object.lastOffset)
  );
}

/**
 * What an object that no valid digest lists is: `not-covered` when a digest
 * already covers its offsets (it should be listed), else `pending` while the
 * partition's newest valid digest is fresh and `stale-pending` once it is not.
 */
export function uncoveredState(
  firstOffset: number,
  coveredThrough: number,
  fresh: boolean,
): 'not-covered' | 'pending' | 'stale-pending' {
  if (firstOffset <= coveredThrough) return 'not-covered';
  return fresh ? 'pending' : 'stale-pending';
}
