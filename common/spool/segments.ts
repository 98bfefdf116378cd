/** Naming and listing of spool segment files: `<base offset, 20 digits>.seg`. */
import { readdirSync } from 'node:fs';
import { AuditErrorCode, StorageError } from '../errors.js';

const SEGMENT = /^(\d{20})\.seg$/;

export function segmentFileName(baseOffset: number): string {
  return `${String(baseOffset).padStart(20, '0')}.seg`;
}

/** Base offsets of the segments in `dir`, ascending. */
export function listSegments(dir: string): number[] {
  const bases: number[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new StorageError(AuditErrorCode.NotFound, `spool folder ${dir} does not exist`, {
        cause,
      });
    }
    throw cause;
  }
  for (const name of names) {
    const match = SEGMENT.exec(name);
    if (match?.[1] !== undefined) bases.push(Number(match[1]));
  }
  return bases.sort((a, b) => a - b);
}
