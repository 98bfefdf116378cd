import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { TestContext } from 'node:test';
import { spoolArchiver } from '../../consumers/archiver/spool-archiver.js';
import { LocalDirStore } from '../../consumers/object-store/local-dir-store.js';
import { AuditEvent } from '../../producer/audit-event.js';
import { AuditTrail } from '../../producer/audit-trail.js';
import { AuditEventType } from '../../schemas/event-type.js';
import { tempDir } from '../helpers.js';

/**
 * The archive of an embedded pipeline: 3 runs of 250 events in objects of 100,
 * so 9 objects and, with a signing key, 3 digests.
 */
export async function embeddedArchive(
  t: TestContext,
  signingKey: KeyObject | undefined,
): Promise<LocalDirStore> {
  const dir = await tempDir(t);
  const spoolDir = join(dir, 'spool');
  const store = new LocalDirStore(join(dir, 'archive'));
  for (let run = 0; run < 3; run++) {
    const trail = new AuditTrail({ spoolDir });
    for (let i = 0; i < 250; i++)
      trail.addEvent(new AuditEvent(AuditEventType.IntegrityCheck).withPackageName(`p${i % 5}`));
    await trail.close();
    await spoolArchiver({ spoolDir, store, batch: { maxEvents: 100 }, signingKey }).drain();
  }
  return store;
}
