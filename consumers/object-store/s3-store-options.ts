/**
 * The options of the S3 store and their defaults, apart from the store itself,
 * so that the settings table can name them without loading the AWS SDK.
 */
import { RETRY_POLICIES } from '../../common/retry.js';

export interface S3StoreOptions {
  bucket: string;
  /** For S3-compatible servers, e.g. `http://127.0.0.1:9000`; AWS when absent. */
  endpoint?: string | undefined;
  /** @defaultValue 'us-east-1' */
  region?: string | undefined;
  /** Static credentials; the SDK's default chain (environment, profile, instance role) when absent. */
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** Path-style URLs, which S3-compatible servers need. @defaultValue true when `endpoint` is set */
  forcePathStyle?: boolean | undefined;
  /** Puts larger than this go up in parts. @defaultValue 16 MiB */
  multipartThresholdBytes?: number | undefined;
  /** Server-side encryption: `AES256` (SSE-S3) or `aws:kms` (SSE-KMS). */
  serverSideEncryption?: 'AES256' | 'aws:kms' | undefined;
  /** KMS key id or ARN for `aws:kms`. */
  kmsKeyId?: string | undefined;
  /** Object Lock retention for WORM buckets: mode and days from the put. */
  objectLock?: { mode: 'GOVERNANCE' | 'COMPLIANCE'; days: number } | undefined;
  /** Attempts per operation before a retriable error is returned. @defaultValue 4 */
  attempts?: number | undefined;
}

export const S3_STORE_DEFAULTS = {
  region: 'us-east-1',
  multipartThresholdBytes: 16 * 1024 * 1024,
  attempts: RETRY_POLICIES.s3Request.attempts,
} as const satisfies Partial<S3StoreOptions>;

export const SERVER_SIDE_ENCRYPTIONS = ['AES256', 'aws:kms'] as const;
export const OBJECT_LOCK_MODES = ['GOVERNANCE', 'COMPLIANCE'] as const;
