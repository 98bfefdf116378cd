/**
 * Replaces a file so that a crash leaves either the previous file or the new
 * complete one, never a part: write a temporary file beside it, fdatasync it,
 * rename it over the target, fsync the folder.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
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
      await file.datasync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
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
