/**
 * Claims of batch ranges (pure). Before an archive object is written, its
 * writer creates `<prefix>/_claims/<topic>/<partition>/<firstOffset 20 digits>`
 * with a conditional create that the store decides. The first claim of a batch
 * start wins: a writer that finds a claim with another last offset has lost
 * the partition (fenced) and writes nothing; a claim with the same range is a
 * retry (or a crash between claim and object) and the same bytes are written.
 */
import { AuditErrorCode, StorageError } from '../../common/errors.js';

export interface BatchClaim {
  first_offset: number;
  last_offset: number;
  /** The object the claimed range becomes, and the SHA-256 of its bytes. */
  key: string;
  sha256: string;
}

export function claimKeyFor(
  prefix: string,
  topic: string,
  partition: number,
  firstOffset: number,
): string {
  return `${prefix}/_claims/${topic}/${partition}/${String(firstOffset).padStart(20, '0')}`;
}

export function encodeClaim(claim: BatchClaim): Buffer {
  return Buffer.from(`${JSON.stringify(claim)}\n`, 'utf8');
}

export function decodeClaim(key: string, bytes: Buffer): BatchClaim {
  let parsed: Partial<BatchClaim>;
  try {
    parsed = JSON.parse(bytes.toString('utf8')) as Partial<BatchClaim>;
  } catch (cause) {
    throw new StorageError(AuditErrorCode.ArchiveCorrupt, `claim ${key} is not JSON`, { cause });
  }
  if (
    !Number.isSafeInteger(parsed.first_offset) ||
    !Number.isSafeInteger(parsed.last_offset) ||
    typeof parsed.key !== 'string' ||
    typeof parsed.sha256 !== 'string'
  )
    throw new StorageError(AuditErrorCode.ArchiveCorrupt, `claim ${key} lacks its offsets or key`);
  return parsed as BatchClaim;
}
