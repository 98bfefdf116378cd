import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AuditEvent } from '../../producer/audit-event.js';
import { AuditTrail } from '../../producer/audit-trail.js';
import { AuditEventType } from '../../schemas/event-type.js';
import { Spool } from '../../common/spool/spool.js';
import { encodeSingleObject } from '../../schemas/single-object.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { tempDir } from '../helpers.js';

const MAIN = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

function archiveOnce(spool: string, archive: string): string {
  const result = spawnSync(
    process.execPath,
    [MAIN, 'archive', '--once', '--spool', spool, '--archive', archive],
    {
      encoding: 'utf8',
      env: { ...process.env, AUDIT_LOG_LEVEL: 'silent', AUDIT_BATCH_MAX_EVENTS: '40' },
    },
  );
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim();
}

test('archive (local transport) counts exactly what this run wrote: events, objects, duplicates, dead letters', async (t) => {
  const dir = await tempDir(t);
  const spool = join(dir, 'spool');
  const archive = join(dir, 'archive');
  const events = Array.from({ length: 100 }, (_, i) =>
    new AuditEvent(AuditEventType.PackageInstall).withPackageName(`pkg-${i % 7}`),
  );
  const trail = new AuditTrail({ spoolDir: spool, retainInMemory: false });
  for (const event of events) trail.addEvent(event);
  await trail.close();

  assert.equal(
    archiveOnce(spool, archive),
    'archived 100 events into 3 objects (0 duplicates dropped, 0 dead letters)',
  );
  assert.equal(
    archiveOnce(spool, archive),
    'archived 0 events into 0 objects (0 duplicates dropped, 0 dead letters)',
    'a second run finds nothing new',
  );

  // the same 30 events again (a resend), two records that are no event, and 10 new events
  const raw = new Spool({ dir: spool });
  for (const event of events.slice(0, 30))
    raw.append(encodeSingleObject(auditEventSchemas(), event.toRecord()));
  raw.append(Buffer.from('not an event'));
  raw.append(Buffer.from([0xc3, 0x01, 0, 1, 2]));
  for (let i = 0; i < 10; i++)
    raw.append(
      encodeSingleObject(
        auditEventSchemas(),
        new AuditEvent(AuditEventType.IntegrityCheck).withPackageName('late').toRecord(),
      ),
    );
  await raw.close();
  assert.equal(
    archiveOnce(spool, archive),
    'archived 10 events into 1 objects (30 duplicates dropped, 2 dead letters)',
  );
});
