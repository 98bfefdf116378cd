/**
 * Replaces a file so that a crash leaves either the previous file or the new
 * complete one, never a part: write a temporary file beside it, fdatasync it,
 * rename it over the target, fsync the folder. The file is mode 0600: it is
 * audit data or a key. A symbolic link at the target is replaced, never
 * followed.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import { chmod, mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Temporary files carry this mark; listings of a folder being written skip them. */
export const TEMP_MARK = '.tmp-';

/** `write` creates and fills the temporary file at the path it is given. */
export async function writeFileAtomically(
  path: string,
  write: (tempPath: string) => Promise<void>,
): Promise<void> {
  const folder = dirname(path);
  const temp = join(
    folder,
    `.${basename(path)}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  try {
    await write(temp);
    const file = await open(temp, 'r+');
    try {
      // audit data and keys are their owner's only, whatever the umask or the writer's mode
      await file.chmod(0o600);
      await file.datasync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (error) {
    // the write's error is what to report; a temporary file that was never created is no second fault
    await unlink(temp).catch((cleanup: NodeJS.ErrnoException) => {
      if (cleanup.code !== 'ENOENT')
        throw new AggregateError([error, cleanup], (error as Error).message);
    });
    throw error;
  }
  await syncFolder(folder);
}

export async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Creates `folder` (and its parents) readable by its owner only: mode 0700 whatever the umask. */
export async function makePrivateFolder(folder: string): Promise<void> {
  const first = await mkdir(folder, { recursive: true, mode: 0o700 });
  // the umask may have taken bits off new folders; set them on each folder created here
  if (first !== undefined) {
    for (let dir = folder; dir.length >= first.length; dir = dirname(dir)) {
      await chmod(dir, 0o700);
      if (dir === first) break;
    }
  }
}

/** The same, synchronously (the spool opens its folder in its constructor). */
export function makePrivateFolderSync(folder: string): void {
  const first = mkdirSync(folder, { recursive: true, mode: 0o700 });
  if (first !== undefined) {
    for (let dir = folder; dir.length >= first.length; dir = dirname(dir)) {
      chmodSync(dir, 0o700);
      if (dir === first) break;
    }
  }
}
