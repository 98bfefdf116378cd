/**
 * Signed digests of the archive (pure apart from node:crypto). For each
 * partition, one digest per interval lists the objects written in it with their
 * SHA-256, and carries the signature of the previous digest, so digests form a
 * chain of their own. Intervals are contiguous: each starts where the previous
 * ended; a clean stop closes the current interval early.
 *
 * The signature is Ed25519 over the UTF-8 JSON of the digest without its
 * `signature` field, fields in the order written here.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { AuditErrorCode, ConfigError, StorageError } from '../../common/errors.js';

export interface DigestObjectEntry {
  key: string;
  sha256: string;
  first_offset: number;
  last_offset: number;
  count: number;
}

export interface DigestBody {
  version: 1;
  topic: string;
  partition: number;
  /** ISO-8601 UTC; inclusive. */
  interval_start: string;
  /** ISO-8601 UTC; exclusive. */
  interval_end: string;
  objects: DigestObjectEntry[];
  /** Key of the previous digest of the partition, or null for the first. */
  previous_digest_key: string | null;
  previous_digest_signature: string | null;
  /** Highest offset covered by this digest or any before it; -1 when none. */
  covered_through_offset: number;
  /** SHA-256 of the signing public key (SPKI DER), to tell keys apart. */
  public_key_sha256: string;
}

export interface Digest extends DigestBody {
  /** Base64 Ed25519 signature. */
  signature: string;
}

const pad13 = (n: number): string => String(n).padStart(13, '0');

/** `<prefix>/_digests/<topic>/<partition>/<start ms 13 digits>-<end ms 13 digits>.json`: sorts by time. */
export function digestKeyFor(
  prefix: string,
  topic: string,
  partition: number,
  start: number,
  end: number,
): string {
  return `${prefix}/_digests/${topic}/${partition}/${pad13(start)}-${pad13(end)}.json`;
}

const DIGEST_KEY = /\/_digests\/([^/]+)\/(\d+)\/(\d{13})-(\d{13})\.json$/;

export function parseDigestKey(
  key: string,
): { topic: string; partition: number; start: number; end: number } | undefined {
  const m = DIGEST_KEY.exec(key);
  if (m === null) return undefined;
  const [, topic, partition, start, end] = m as unknown as string[];
  return {
    topic: topic as string,
    partition: Number(partition),
    start: Number(start),
    end: Number(end),
  };
}

/** The start of the interval that `time` falls in, for intervals aligned to the epoch. */
export function intervalStart(time: number, intervalMs: number): number {
  return Math.floor(time / intervalMs) * intervalMs;
}

export function publicKeySha256(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

function bodyBytes(body: DigestBody): Buffer {
  const ordered: DigestBody = {
    version: body.version,
    topic: body.topic,
    partition: body.partition,
    interval_start: body.interval_start,
    interval_end: body.interval_end,
    objects: body.objects.map((o) => ({
      key: o.key,
      sha256: o.sha256,
      first_offset: o.first_offset,
      last_offset: o.last_offset,
      count: o.count,
    })),
    previous_digest_key: body.previous_digest_key,
    previous_digest_signature: body.previous_digest_signature,
    covered_through_offset: body.covered_through_offset,
    public_key_sha256: body.public_key_sha256,
  };
  return Buffer.from(JSON.stringify(ordered), 'utf8');
}

export function signDigest(body: DigestBody, privateKey: KeyObject): Digest {
  return { ...body, signature: sign(null, bodyBytes(body), privateKey).toString('base64') };
}

/** True when the signature is valid for `publicKey` over the digest as it is. */
export function digestSignatureValid(digest: Digest, publicKey: KeyObject): boolean {
  try {
    return verify(null, bodyBytes(digest), publicKey, Buffer.from(digest.signature, 'base64'));
  } catch {
    // fails closed: a signature that cannot even be checked (malformed, a key of another type) is not valid
    return false;
  }
}

export function encodeDigest(digest: Digest): Buffer {
  return Buffer.from(JSON.stringify(digest, null, 2) + '\n', 'utf8');
}

export function decodeDigest(key: string, bytes: Buffer): Digest {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as Digest;
    if (value.version !== 1 || !Array.isArray(value.objects) || typeof value.signature !== 'string')
      throw new Error('not a digest');
    return value;
  } catch (cause) {
    throw new StorageError(
      AuditErrorCode.ArchiveCorrupt,
      `digest ${key} is not a valid digest: ${(cause as Error).message}`,
      { cause },
    );
  }
}

function ed25519Key(setting: string, pem: string, kind: 'private' | 'public'): KeyObject {
  try {
    const key = kind === 'private' ? createPrivateKey(pem) : createPublicKey(pem);
    if (key.asymmetricKeyType !== 'ed25519') {
      throw new Error(`it is ${key.asymmetricKeyType ?? 'not asymmetric'}, not ed25519`);
    }
    return key;
  } catch (error) {
    throw new ConfigError(setting, `is not an Ed25519 ${kind} key: ${(error as Error).message}`);
  }
}

/** An Ed25519 private key from PEM text; the error names the setting. */
export function loadSigningKey(setting: string, pem: string): KeyObject {
  return ed25519Key(setting, pem, 'private');
}

/** An Ed25519 public key from PEM text; the error names the setting. */
export function loadVerifyKey(setting: string, pem: string): KeyObject {
  return ed25519Key(setting, pem, 'public');
}
