/**
 * A full disk under the spool, for real: a small tmpfs (the tests run as root).
 * An addEvent that throws has recorded nothing, and every event it accepted is
 * recorded once space is back.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AuditErrorCode, isAuditError } from '../../common/errors.js';
import { AuditEvent } from '../../producer/audit-event.js';
import { AuditTrail } from '../../producer/audit-trail.js';
import { AuditEventType } from '../../schemas/event-type.js';
import { SpoolReader } from '../../common/spool/spool-reader.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { decodeSingleObject } from '../../schemas/single-object.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';

const MAIN = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

function mount(...args: string[]): void {
  const result = spawnSync('mount', args, { encoding: 'utf8' });
  assert.equal(result.status, 0, `mount ${args.join(' ')}: ${result.stderr}`);
}

/** A tmpfs of `size` at a fresh folder, unmounted after the test. */
export function smallDisk(t: TestContext, size: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'audit-trail-disk-'));
  mount('-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir);
  t.after(() => {
    spawnSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

test('disk full under the spool: an addEvent that throws recorded nothing; what was accepted is recorded once space is back', async (t) => {
  const disk = smallDisk(t, '64k');
  const spoolDir = join(disk, 'spool');
  const trail = new AuditTrail({ spoolDir, retainInMemory: false, spool: { bufferBytes: 4096 } });
  const accepted: string[] = [];
  const failed: string[] = [];
  for (let i = 0; i < 2000 && failed.length < 3; i++) {
    const event = new AuditEvent(AuditEventType.IntegrityCheck)
      .withPackageName(`pkg-${i % 9}`)
      .withDetail('pad', 'x'.repeat(150));
    try {
      trail.addEvent(event);
      accepted.push(event.id);
    } catch (error) {
      assert.ok(isAuditError(error) && error.code === AuditErrorCode.Io, String(error));
      assert.equal(error.retriable, true);
      failed.push(event.id);
    }
  }
  assert.equal(failed.length, 3, 'the disk filled up');

  mount('-o', 'remount,size=4m', disk); // space is back
  await trail.close();
  const records = await new SpoolReader(spoolDir).read(0, 10_000);
  const ids = records.map(
    (r) => decodeSingleObject<AuditEventRecord>(auditEventSchemas(), r.value).id,
  );
  for (const id of failed) assert.ok(!ids.includes(id), `${id} was reported failed but recorded`);
  assert.deepEqual(ids, accepted, 'every accepted event recorded once, in order');
});

test('produce with the disk full stops at a line, says how many were recorded, and a re-run from that line records the rest once', async (t) => {
  const disk = smallDisk(t, '64k');
  const file = join(disk, '..', `${Date.now()}-events.ndjson`);
  const lines = Array.from({ length: 1500 }, (_, i) =>
    JSON.stringify({
      id: `0190b6a2-7c3e-7000-8000-${String(i).padStart(12, '0')}`,
      event_type: 'IntegrityCheck',
      package_name: `pkg-${i % 7}`,
      details: { pad: 'y'.repeat(150) },
    }),
  );
  writeFileSync(file, lines.join('\n') + '\n');
  t.after(() => rmSync(file, { force: true }));
  const env = {
    ...process.env,
    AUDIT_SPOOL_DIR: join(disk, 'spool'),
    AUDIT_LOG_LEVEL: 'silent',
  };
  const produce = (...extra: string[]) =>
    spawnSync(process.execPath, [MAIN, 'produce', '--from', file, ...extra], {
      encoding: 'utf8',
      env,
    });
  const first = produce();
  assert.equal(first.status, 1, first.stdout + first.stderr);
  const m =
    /^(\d+) events recorded in the spool .*stopped at line (\d+) \(IO_ERROR: .*\): go on with --start-line (\d+)$/m.exec(
      first.stdout,
    );
  assert.ok(m !== null, first.stdout);
  const [, recorded, line] = m.map(Number) as [number, number, number];
  assert.equal(recorded, line - 1, 'every line before the stop is recorded');

  mount('-o', 'remount,size=4m', disk);
  const second = produce('--start-line', String(line));
  assert.equal(second.status, 0, second.stdout + second.stderr);
  const records = await new SpoolReader(join(disk, 'spool')).read(0, 10_000);
  const ids = records.map(
    (r) => decodeSingleObject<AuditEventRecord>(auditEventSchemas(), r.value).id,
  );
  assert.equal(ids.length, lines.length, 'each line once');
  assert.equal(new Set(ids).size, lines.length);
});
