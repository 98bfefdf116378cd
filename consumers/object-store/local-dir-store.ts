/**
 * ObjectStore on a local directory. Keys map to paths below the root; a put
 * writes a temporary file, fsyncs it, renames it over the key and fsyncs the
 * folder, so a crash leaves the old object or the new one, never a part.
 */
import { randomBytes } from 'node:crypto';
import { link, open, readFile, readdir, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import {
  makePrivateFolder,
  syncFolder,
  TEMP_MARK,
  writeFileAtomically,
} from '../../common/atomic-file.js';
import { AuditErrorCode, ConfigError, StorageError } from '../../common/errors.js';
import { isValidObjectKey, type ObjectStore } from './object-store.js';

export class LocalDirStore implements ObjectStore {
  readonly root: string;
  readonly description: string;

  constructor(root: string) {
    this.root = root;
    this.description = `dir:${root}`;
  }

  private pathOf(key: string): string {
    if (!isValidObjectKey(key))
      // a key is the caller's argument (built from the configured prefix): a validation code, not INVALID_STATE
      throw new StorageError(
        AuditErrorCode.InvalidOption,
        `invalid object key ${JSON.stringify(key)}`,
        { field: 'key' },
      );
    return join(this.root, ...key.split('/'));
  }

  async put(key: string, body: Buffer): Promise<void> {
    const path = this.pathOf(key);
    try {
      await makePrivateFolder(dirname(path));
      await writeFileAtomically(path, (temp) => writeFile(temp, body));
    } catch (cause) {
      throw new StorageError(
        AuditErrorCode.Io,
        `cannot write ${key} to ${this.description}: ${(cause as Error).message}`,
        { retriable: true, cause },
      );
    }
  }

  async putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    const path = this.pathOf(key);
    // a complete temporary file, then link(): the link is created whole or fails with EEXIST
    const temp = join(
      dirname(path),
      `.${basename(path)}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`,
    );
    try {
      await makePrivateFolder(dirname(path));
      const file = await open(temp, 'wx', 0o600);
      try {
        await file.writeFile(body);
        await file.datasync();
      } finally {
        await file.close();
      }
      try {
        await link(temp, path);
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw cause;
      }
      await syncFolder(dirname(path));
      return true;
    } catch (cause) {
      throw new StorageError(
        AuditErrorCode.Io,
        `cannot create ${key} in ${this.description}: ${(cause as Error).message}`,
        { retriable: true, cause },
      );
    } finally {
      // gone after a failed open; the link, when made, is the object
      await unlink(temp).catch((cause: NodeJS.ErrnoException) => {
        if (cause.code !== 'ENOENT') throw cause;
      });
    }
  }

  async get(key: string): Promise<Buffer> {
    const path = this.pathOf(key); // a bad key is refused as such, not reported as a failed read
    return this.read(key, () => readFile(path));
  }

  async getHead(key: string, maxBytes: number): Promise<Buffer> {
    const path = this.pathOf(key);
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1)
      throw new ConfigError('maxBytes', `must be a positive integer, got ${maxBytes}`);
    return this.read(key, async () => {
      const file = await open(path, 'r');
      try {
        const buffer = Buffer.alloc(maxBytes);
        let length = 0;
        while (length < maxBytes) {
          const { bytesRead } = await file.read(buffer, length, maxBytes - length, length);
          if (bytesRead === 0) break;
          length += bytesRead;
        }
        return buffer.subarray(0, length);
      } finally {
        await file.close();
      }
    });
  }

  private async read(key: string, reader: () => Promise<Buffer>): Promise<Buffer> {
    try {
      return await reader();
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new StorageError(AuditErrorCode.NotFound, `no object ${key} in ${this.description}`, {
          cause,
        });
      }
      throw new StorageError(
        AuditErrorCode.Io,
        `cannot read ${key} from ${this.description}: ${(cause as Error).message}`,
        {
          retriable: true,
          cause,
        },
      );
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    // Walk only the folders the prefix can reach, then sort whole keys as S3 does.
    const lastSlash = prefix.lastIndexOf('/');
    const base =
      lastSlash < 0 ? this.root : join(this.root, ...prefix.slice(0, lastSlash).split('/'));
    const keys: string[] = [];
    await collect(base, (path) => {
      const key = relative(this.root, path).split(sep).join('/');
      if (key.startsWith(prefix)) keys.push(key);
    });
    keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    yield* keys;
  }

  async delete(key: string): Promise<void> {
    await unlink(this.pathOf(key)).catch((cause: NodeJS.ErrnoException) => {
      if (cause.code !== 'ENOENT') {
        throw new StorageError(
          AuditErrorCode.Io,
          `cannot delete ${key} from ${this.description}: ${cause.message}`,
          {
            retriable: true,
            cause,
          },
        );
      }
    });
  }
}

async function collect(folder: string, onFile: (path: string) => void): Promise<void> {
  let entries;
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw cause;
  }
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) await collect(path, onFile);
    else if (entry.isFile() && !entry.name.includes(TEMP_MARK)) onFile(path);
  }
}
