/**
 * ObjectStore on S3 or an S3-compatible server (@aws-sdk/client-s3). Objects
 * larger than `multipartThresholdBytes` go up in parts (@aws-sdk/lib-storage).
 * Transient failures (network, throttling, 5xx) are retried with backoff, then
 * reported as retriable StorageErrors; the archiver retries those until the
 * store is back. Server-side encryption and Object Lock retention are passed
 * through on every put.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { AuditErrorCode, ConfigError, StorageError } from '../../common/errors.js';
import { nonEmptyOption, oneOfOption, positiveIntegerOption } from '../../common/options.js';
import { RETRY_POLICIES, retry } from '../../common/retry.js';
import { isValidObjectKey, type ObjectStore } from './object-store.js';
import {
  OBJECT_LOCK_MODES,
  S3_STORE_DEFAULTS,
  SERVER_SIDE_ENCRYPTIONS,
  type S3StoreOptions,
} from './s3-store-options.js';

export {
  OBJECT_LOCK_MODES,
  S3_STORE_DEFAULTS,
  SERVER_SIDE_ENCRYPTIONS,
  type S3StoreOptions,
} from './s3-store-options.js';

/** The options with their defaults, each checked; a ConfigError names the first bad field. */
function validated(
  options: S3StoreOptions,
): S3StoreOptions & { region: string; multipartThresholdBytes: number; attempts: number } {
  const field = (name: string): string => `S3Store.${name}`;
  nonEmptyOption(field('bucket'), options.bucket);
  if (options.endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(options.endpoint))
    throw new ConfigError(field('endpoint'), 'must be an http(s) URL');
  if (options.region !== undefined) nonEmptyOption(field('region'), options.region);
  if (options.credentials !== undefined) {
    nonEmptyOption(field('credentials.accessKeyId'), options.credentials.accessKeyId);
    // checked, never echoed
    nonEmptyOption(field('credentials.secretAccessKey'), options.credentials.secretAccessKey);
  }
  if (options.serverSideEncryption !== undefined)
    oneOfOption(
      field('serverSideEncryption'),
      options.serverSideEncryption,
      SERVER_SIDE_ENCRYPTIONS,
      'AES256',
    );
  if (options.objectLock !== undefined) {
    oneOfOption(field('objectLock.mode'), options.objectLock.mode, OBJECT_LOCK_MODES, 'GOVERNANCE');
    positiveIntegerOption(field('objectLock.days'), options.objectLock.days, 0);
  }
  return {
    ...options,
    region: options.region ?? S3_STORE_DEFAULTS.region,
    multipartThresholdBytes: positiveIntegerOption(
      field('multipartThresholdBytes'),
      options.multipartThresholdBytes,
      S3_STORE_DEFAULTS.multipartThresholdBytes,
    ),
    attempts: positiveIntegerOption(
      field('attempts'),
      options.attempts,
      S3_STORE_DEFAULTS.attempts,
    ),
  };
}

const PART_SIZE = 8 * 1024 * 1024;

/** S3 error names that mean the credentials or the request's rights are refused. */
const ACCESS_DENIED = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
]);

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function isTransient(error: unknown): boolean {
  const status = statusOf(error);
  if (status === undefined) return true; // no HTTP answer at all: the server is unreachable
  // 409: AWS's ConditionalRequestConflict, a concurrent conditional write on the key; retry decides it
  return status >= 500 || status === 429 || status === 408 || status === 409;
}

export class S3Store implements ObjectStore {
  readonly description: string;
  private readonly client: S3Client;
  private readonly options: ReturnType<typeof validated>;

  constructor(storeOptions: S3StoreOptions) {
    const options = validated(storeOptions);
    this.options = options;
    this.description = `s3://${options.bucket}${options.endpoint === undefined ? '' : ` at ${options.endpoint}`}`;
    this.client = new S3Client({
      endpoint: options.endpoint,
      region: options.region,
      credentials: options.credentials,
      forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
      // only the checksums S3 requires: S3-compatible servers differ in the optional ones
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 1, // retries are ours, with the attempt count in the final error
    });
  }

  private checkKey(key: string): void {
    if (!isValidObjectKey(key))
      // a key is the caller's argument (built from the configured prefix): a validation code, not INVALID_STATE
      throw new StorageError(
        AuditErrorCode.InvalidOption,
        `invalid object key ${JSON.stringify(key)}`,
        { field: 'key' },
      );
  }

  private async call<T>(what: string, key: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await retry(operation, {
        policy: RETRY_POLICIES.s3Request,
        attempts: this.options.attempts,
        isRetriable: isTransient,
      });
    } catch (error) {
      if (error instanceof StorageError) throw error;
      const name = (error as Error).name;
      if (name === 'NoSuchBucket') {
        throw new StorageError(
          AuditErrorCode.NoSuchBucket,
          `bucket ${this.options.bucket} does not exist (${this.description})`,
          { cause: error },
        );
      }
      if (statusOf(error) === 403 || ACCESS_DENIED.has(name)) {
        // the message names the key id only as the server echoes it; never the secret
        throw new StorageError(
          AuditErrorCode.AccessDenied,
          `${this.description} refused to ${what} ${key}: ${name} (check the credentials and the bucket policy)`,
          { cause: error },
        );
      }
      if (name === 'NoSuchKey' || statusOf(error) === 404) {
        throw new StorageError(AuditErrorCode.NotFound, `no object ${key} in ${this.description}`, {
          cause: error,
        });
      }
      const transient =
        isTransient(error) || isTransient((error as { cause?: unknown }).cause ?? error);
      throw new StorageError(
        transient ? AuditErrorCode.Unavailable : AuditErrorCode.Io,
        `cannot ${what} ${key} in ${this.description}: ${(error as Error).message || name}`,
        { retriable: transient, cause: error },
      );
    }
  }

  private putParameters(key: string): Omit<PutObjectCommandInput, 'Body'> {
    const o = this.options;
    return {
      Bucket: o.bucket,
      Key: key,
      ContentType: 'application/octet-stream',
      ServerSideEncryption: o.serverSideEncryption,
      SSEKMSKeyId: o.serverSideEncryption === 'aws:kms' ? o.kmsKeyId : undefined,
      ObjectLockMode: o.objectLock?.mode,
      ObjectLockRetainUntilDate:
        o.objectLock === undefined
          ? undefined
          : new Date(Date.now() + o.objectLock.days * 86_400_000),
      // S3 requires an integrity checksum on puts with Object Lock parameters
      ChecksumAlgorithm: o.objectLock === undefined ? undefined : 'SHA256',
    };
  }

  async put(key: string, body: Buffer): Promise<void> {
    this.checkKey(key);
    const params = this.putParameters(key);
    await this.call('put', key, async () => {
      if (body.length <= this.options.multipartThresholdBytes) {
        await this.client.send(
          new PutObjectCommand({ ...params, Body: body, ContentLength: body.length }),
        );
        return;
      }
      await new Upload({
        client: this.client,
        params: { ...params, Body: body },
        partSize: PART_SIZE,
        queueSize: 2,
      }).done();
    });
  }

  /**
   * A conditional create (`If-None-Match: *`): S3 answers 412 when the key
   * exists. S3Proxy 4.1 enforces it too (one winner among concurrent puts).
   * One PutObject, so bodies up to 5 GiB; claims are a few hundred bytes.
   */
  async putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    this.checkKey(key);
    const params = this.putParameters(key);
    try {
      await this.call('create', key, () =>
        this.client.send(
          new PutObjectCommand({
            ...params,
            Body: body,
            ContentLength: body.length,
            IfNoneMatch: '*',
          }),
        ),
      );
      return true;
    } catch (error) {
      if (statusOf((error as { cause?: unknown }).cause) === 412) return false;
      throw error;
    }
  }

  async get(key: string): Promise<Buffer> {
    this.checkKey(key);
    return this.call('get', key, async () => {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: key }),
      );
      if (response.Body === undefined) return Buffer.alloc(0);
      return Buffer.from(await response.Body.transformToByteArray());
    });
  }

  async getHead(key: string, maxBytes: number): Promise<Buffer> {
    this.checkKey(key);
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1)
      throw new ConfigError('maxBytes', `must be a positive integer, got ${maxBytes}`);
    return this.call('get', key, async () => {
      // S3 answers 206 with the bytes that exist when the object is shorter than
      // the range, and 416 when it is empty
      let response;
      try {
        response = await this.client.send(
          new GetObjectCommand({
            Bucket: this.options.bucket,
            Key: key,
            Range: `bytes=0-${maxBytes - 1}`,
          }),
        );
      } catch (error) {
        if (
          (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 416
        )
          return Buffer.alloc(0);
        throw error;
      }
      if (response.Body === undefined) return Buffer.alloc(0);
      const bytes = Buffer.from(await response.Body.transformToByteArray());
      return bytes.length > maxBytes ? bytes.subarray(0, maxBytes) : bytes;
    });
  }

  async *list(prefix: string): AsyncIterable<string> {
    // page by page, each page retried on its own, so that a failure never shortens the listing
    let token: string | undefined;
    do {
      const page = await this.call('list', `${prefix}*`, () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.options.bucket,
            Prefix: prefix,
            ContinuationToken: token,
            MaxKeys: 1000,
          }),
        ),
      );
      for (const object of page.Contents ?? []) if (object.Key !== undefined) yield object.Key;
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async delete(key: string): Promise<void> {
    this.checkKey(key);
    await this.call('delete', key, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: key })),
    );
  }

  close(): void {
    this.client.destroy();
  }
}
