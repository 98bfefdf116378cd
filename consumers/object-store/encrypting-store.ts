/**
 * Client-side encryption of archive objects with AES-256-GCM, around any
 * ObjectStore. Stored bytes: magic `ATE1`, 12-byte IV, ciphertext, 16-byte tag.
 * The IV is derived from the key, the object key and the plaintext (HMAC), so a
 * retried put writes the same bytes again and different plaintexts never share
 * an IV. Reads decrypt transparently; a wrong key or altered bytes fail the
 * authentication and are reported as ARCHIVE_CORRUPT.
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { AuditErrorCode, ConfigError, StorageError } from '../../common/errors.js';
import type { ObjectStore } from './object-store.js';

const MAGIC = Buffer.from('ATE1', 'latin1');
const IV_SIZE = 12;
const TAG_SIZE = 16;

/** A 32-byte key from base64 or hex text; the error names the setting. */
export function parseEncryptionKey(setting: string, text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64');
  if (key.length !== 32)
    throw new ConfigError(setting, 'must be a 256-bit key: 64 hex digits or 44 base64 characters');
  return key;
}

export class EncryptingStore implements ObjectStore {
  readonly description: string;
  private readonly inner: ObjectStore;
  private readonly key: Buffer;

  constructor(inner: ObjectStore, key: Buffer) {
    if (key.length !== 32) throw new ConfigError('encryptionKey', 'must be 32 bytes (AES-256)');
    this.inner = inner;
    this.key = key;
    this.description = `${inner.description} (AES-256-GCM)`;
  }

  encrypt(objectKey: string, plaintext: Buffer): Buffer {
    const iv = createHmac('sha256', this.key)
      .update(objectKey)
      .update('\0')
      .update(plaintext)
      .digest()
      .subarray(0, IV_SIZE);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(objectKey, 'utf8')); // an object moved to another key fails too
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([MAGIC, iv, body, cipher.getAuthTag()]);
  }

  decrypt(objectKey: string, stored: Buffer): Buffer {
    if (
      stored.length < MAGIC.length + IV_SIZE + TAG_SIZE ||
      !stored.subarray(0, MAGIC.length).equals(MAGIC)
    ) {
      throw new StorageError(
        AuditErrorCode.ArchiveCorrupt,
        `${objectKey} is not an encrypted archive object`,
      );
    }
    try {
      const iv = stored.subarray(MAGIC.length, MAGIC.length + IV_SIZE);
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
      decipher.setAAD(Buffer.from(objectKey, 'utf8'));
      decipher.setAuthTag(stored.subarray(stored.length - TAG_SIZE));
      return Buffer.concat([
        decipher.update(stored.subarray(MAGIC.length + IV_SIZE, stored.length - TAG_SIZE)),
        decipher.final(),
      ]);
    } catch (cause) {
      throw new StorageError(
        AuditErrorCode.ArchiveCorrupt,
        `${objectKey} fails AES-GCM authentication (altered, or another key)`,
        { cause },
      );
    }
  }

  put(key: string, body: Buffer): Promise<void> {
    return this.inner.put(key, this.encrypt(key, body));
  }

  putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    return this.inner.putIfAbsent(key, this.encrypt(key, body));
  }

  /** Reads the whole object: a part of an encrypted object cannot be authenticated. */
  async getHead(key: string, maxBytes: number): Promise<Buffer> {
    const bytes = await this.get(key);
    return bytes.length > maxBytes ? bytes.subarray(0, maxBytes) : bytes;
  }

  async get(key: string): Promise<Buffer> {
    return this.decrypt(key, await this.inner.get(key));
  }

  list(prefix: string): AsyncIterable<string> {
    return this.inner.list(prefix);
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
}
