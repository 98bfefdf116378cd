/** The verification summary and the counts of an export as header values (trailers, logs). */
import type { VerificationSummary } from '../export-events.js';

/** Lists in a trailer are cut to this many entries (with the totals given). */
const TRAILER_LIST_MAX = 10;

/** A header value: JSON on one line, non-ASCII escaped (header values are Latin-1). */
export const headerJson = (value: unknown): string =>
  JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

export function verificationTrailer(v: Readonly<VerificationSummary>): Record<string, unknown> {
  return {
    configured: v.configured,
    verified: v.verified,
    pending_total: v.pending.length,
    failed_total: v.failed.length,
    pending: v.pending.slice(0, TRAILER_LIST_MAX),
    failed: v.failed.slice(0, TRAILER_LIST_MAX),
  };
}
