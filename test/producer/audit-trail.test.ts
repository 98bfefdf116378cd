import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
// the public entry of the package, as users import it
import {
  AuditEvent,
  AuditEventType,
  AuditTrail,
  AuditErrorCode,
  LocalDirStore,
  readArchive,
  SpoolReader,
} from 'audit-trail';
import { spoolArchiver } from 'audit-trail/archive';
import { collect, tempDir } from '../helpers.js';

test("the seed's usage example runs unchanged against the package entry", async (t) => {
  const dir = await tempDir(t);
  process.chdir(dir);
  // Create a new audit trail
  const auditTrail = new AuditTrail();
  // Create audit events
  const event = new AuditEvent(AuditEventType.PackageInstall)
    .withPackageName('package-name')
    .withPackageVersion('1.0.0')
    .withUser('admin');
  // Add events to the audit trail
  auditTrail.addEvent(event);
  // Export audit trail
  await auditTrail.exportToJson('audit-trail.json');
  await auditTrail.exportToCsv('audit-trail.csv');
  // Get events for a specific package
  const packageEvents = auditTrail.eventsForPackage('package-name');
  assert.equal(packageEvents.length, 1);

  const json = JSON.parse(readFileSync(join(dir, 'audit-trail.json'), 'utf8')) as Record<
    string,
    unknown
  >[];
  assert.equal(json.length, 1);
  assert.equal(json[0]?.package_name, 'package-name');
  assert.equal(json[0]?.user, 'admin');
  assert.equal(json[0]?.id, event.id);
  const rows = parse<Record<string, string>>(readFileSync(join(dir, 'audit-trail.csv'), 'utf8'), {
    columns: true,
  });
  assert.equal(rows[0]?.package_version, '1.0.0');
});

test('a rejected event is not recorded and does not disturb what was accepted', async (t) => {
  const spoolDir = await tempDir(t);
  const trail = new AuditTrail({ spoolDir });
  trail.addEvent(new AuditEvent(AuditEventType.PackageInstall).withPackageName('ok'));
  const bad = new AuditEvent(AuditEventType.PackageInstall)
    .withPackageName('ok')
    .withSuccess(false);
  assert.throws(() => trail.addEvent(bad), {
    code: AuditErrorCode.InconsistentOutcome,
    field: 'error_message',
  });
  const noName = new AuditEvent(AuditEventType.PackageUninstall);
  assert.throws(() => trail.addEvent(noName), {
    code: AuditErrorCode.MissingField,
    field: 'package_name',
  });
  noName.packageVersion = 'not a version'; // set without the builder: still caught
  assert.throws(() => trail.addEvent(noName.withPackageName('x')), { field: 'package_version' });
  assert.equal(trail.size, 1);
  assert.equal(trail.eventsForPackage('ok').length, 1);
  await trail.close();
  assert.equal((await new SpoolReader(spoolDir).read(0, 100)).length, 1);
});

test('eventsForPackage returns that package only, in order, with the source filled in', () => {
  const trail = new AuditTrail({ source: 'host-a' });
  for (const name of ['a', 'b', 'a', 'c', 'a'])
    trail.addEvent(new AuditEvent(AuditEventType.IntegrityCheck).withPackageName(name));
  trail.addEvent(new AuditEvent(AuditEventType.ConfigurationChange).withDetail('setting', 'x'));
  const events = trail.eventsForPackage('a');
  assert.equal(events.length, 3);
  assert.ok(events.every((e) => e.packageName === 'a' && e.source === 'host-a'));
  assert.deepEqual(trail.eventsForPackage('zzz'), []);
  assert.equal(trail.events().length, 6);
});

test('a recorded event does not change when the caller mutates the builder afterwards', () => {
  const trail = new AuditTrail();
  const event = new AuditEvent(AuditEventType.PackageInstall).withPackageName('x').withUser('ada');
  trail.addEvent(event);
  event.withUser('mallory');
  assert.equal(trail.eventsForPackage('x')[0]?.user, 'ada');
});

test('a durable trail writes through to the spool; the archiver and exporter read it back', async (t) => {
  const dir = await tempDir(t);
  const spoolDir = join(dir, 'spool');
  const trail = new AuditTrail({ spoolDir, retainInMemory: false, source: 'installer-7' });
  const ids: string[] = [];
  for (let i = 0; i < 2500; i++) {
    const event = new AuditEvent(AuditEventType.PackageInstall)
      .withPackageName(`pkg-${i % 10}`)
      .withPackageVersion(`1.0.${i}`);
    trail.addEvent(event);
    ids.push(event.id);
  }
  await trail.flush();
  assert.throws(() => trail.eventsForPackage('pkg-1'), { code: AuditErrorCode.NotRetained });
  await trail.close();
  assert.throws(() => trail.addEvent(new AuditEvent(AuditEventType.IntegrityCheck)), {
    code: AuditErrorCode.Closed,
  });

  const store = new LocalDirStore(join(dir, 'archive'));
  const archiver = spoolArchiver({ spoolDir, store, batch: { maxEvents: 1000 } });
  assert.deepEqual(await archiver.drain(), {
    records: 2500,
    events: 2500,
    objects: 3,
    duplicatesDropped: 0,
    deadLetters: 0,
  });
  const archived = await collect(readArchive(store, { prefix: 'events' }));
  assert.deepEqual(
    archived.map((r) => r.id),
    ids,
  );
  assert.ok(archived.every((r) => r.source === 'installer-7'));

  // draining again archives nothing twice
  const again = spoolArchiver({ spoolDir, store, batch: { maxEvents: 1000 } });
  assert.deepEqual(await again.drain(), {
    records: 0,
    events: 0,
    objects: 0,
    duplicatesDropped: 0,
    deadLetters: 0,
  });
  assert.equal((await collect(readArchive(store, { prefix: 'events' }))).length, 2500);
});

test('exports replace the file atomically and leave no temporary files', async (t) => {
  const dir = await tempDir(t);
  const trail = new AuditTrail();
  trail.addEvent(new AuditEvent(AuditEventType.PackageInstall).withPackageName('x'));
  const path = join(dir, 'trail.ndjson');
  await trail.exportToNdjson(path);
  trail.addEvent(new AuditEvent(AuditEventType.PackageInstall).withPackageName('y'));
  await trail.exportToNdjson(path);
  assert.equal(readFileSync(path, 'utf8').trimEnd().split('\n').length, 2);
  assert.deepEqual(readdirSync(dir), ['trail.ndjson']);
  await assert.rejects(trail.exportToCsv(join(dir, 'no', 'such', 'dir.csv')), {
    code: AuditErrorCode.Io,
  });
  assert.equal(existsSync(join(dir, 'no')), false);
});

test('options are checked when the trail is made', async (t) => {
  assert.throws(
    () =>
      new AuditTrail({
        spoolDir: '/tmp/x',
        transport: {
          kind: 'x',
          unwritten: 0,
          send() {},
          flush: async () => {},
          close: async () => {},
        },
      }),
    {
      code: AuditErrorCode.InvalidOption,
      field: 'transport',
    },
  );
  const spoolDir = await tempDir(t);
  assert.throws(() => new AuditTrail({ spoolDir, spool: { segmentBytes: -1 } }), {
    code: AuditErrorCode.InvalidOption,
    field: 'spool.segmentBytes',
  });
});

test('backpressure: addEvent refuses when the spool is full, addEventWhenRoom waits until the archiver makes room', async (t) => {
  const dir = await tempDir(t);
  const spoolDir = join(dir, 'spool');
  const trail = new AuditTrail({
    spoolDir,
    retainInMemory: false,
    spool: { maxBytes: 8192, segmentBytes: 1024 },
  });
  const make = () => new AuditEvent(AuditEventType.IntegrityCheck).withPackageName('full');
  let accepted = 0;
  assert.throws(
    () => {
      for (;;) {
        trail.addEvent(make());
        accepted++;
      }
    },
    { code: AuditErrorCode.SpoolFull, retriable: true },
  );
  await trail.flush();
  await assert.rejects(trail.addEventWhenRoom(make(), { timeoutMs: 100 }), {
    code: AuditErrorCode.Timeout,
  });

  const waiting = trail.addEventWhenRoom(make(), { timeoutMs: 10_000 });
  const archiver = spoolArchiver({ spoolDir, store: new LocalDirStore(join(dir, 'archive')) });
  await archiver.drain(); // archives and releases the full segments
  await waiting;
  await trail.close();
  const rest = await spoolArchiver({
    spoolDir,
    store: new LocalDirStore(join(dir, 'archive')),
  }).drain();
  assert.equal(archiver.stats.records + rest.records, accepted + 1);
});
