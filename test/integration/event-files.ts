import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** NDJSON files of events with known ids: `producers` files of `each` events over `packages` packages. */
export function eventFiles(
  dir: string,
  producers: number,
  each: number,
  packages: number,
): { files: string[]; ids: Set<string> } {
  const files: string[] = [];
  const ids = new Set<string>();
  for (let p = 0; p < producers; p++) {
    const lines: string[] = [];
    for (let i = 0; i < each; i++) {
      const id = `0190b6a2-${String(p).padStart(4, '0')}-7000-8000-${String(i).padStart(12, '0')}`;
      ids.add(id);
      lines.push(
        JSON.stringify({
          id,
          event_type: 'PackageInstall',
          package_name: `pkg-${i % packages}`,
          package_version: `2.${p}.${i}`,
          user: `installer-${p}`,
          details: { producer: String(p), seq: String(i) },
          source: `host-${p}`,
        }),
      );
    }
    const file = join(dir, `events-${p}.ndjson`);
    writeFileSync(file, lines.join('\n') + '\n');
    files.push(file);
  }
  return { files, ids };
}
