import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recordAccess } from '../../cli/access.js';
import { AuditErrorCode } from '../../common/errors.js';
import type { AccessInfo } from '../../consumers/exporter/access-record.js';
import { AuditTrail } from '../../producer/audit-trail.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { decodeSingleObject } from '../../schemas/single-object.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { SpoolReader } from '../../common/spool/spool-reader.js';
import { tempDir } from '../helpers.js';

const INFO: AccessInfo = {
  who: 'svc-export',
  from: '198.51.100.4',
  channel: 'request',
  format: 'ndjson',
  filter: { packageName: 'lodash' },
  requestId: '0190b6a2-7c3e-7d4a-9b1e-2f3a4b5c6d7e',
  counts: {
    objectsListed: 3,
    objectsSelected: 2,
    objectsSkipped: 1,
    objectsRead: 1,
    eventsMatched: 9,
  },
  verification: { configured: true, verified: 1, pending: [], failed: [] },
  startedAt: new Date(),
};

test('recordAccess adds the access record to the trail and it is durable in the spool when it resolves', async (t) => {
  const spoolDir = await tempDir(t);
  const trail = new AuditTrail({ spoolDir, source: 'exporter-2', retainInMemory: false });
  const event = await recordAccess(trail, INFO);
  // read while the trail is still open: resolved means written and synced, not "written on close"
  const [stored] = await new SpoolReader(spoolDir).read(0, 10);
  assert.ok(stored !== undefined, 'the record is in the spool');
  const record = decodeSingleObject<AuditEventRecord>(auditEventSchemas(), stored.value);
  assert.equal(record.id, event.id);
  assert.equal(record.event_type, 'IntegrityCheck');
  assert.equal(record.user, 'svc-export');
  assert.equal(record.ip_address, '198.51.100.4');
  assert.equal(record.source, 'exporter-2', 'the trail fills in its source');
  assert.equal(record.details['audit_access.channel'], 'request');
  assert.equal(record.details['audit_access.request_id'], INFO.requestId);
  assert.equal(record.details['audit_access.events'], '9');
  await trail.close();
});

test('recordAccess rejects with a coded error when the trail cannot take the record', async () => {
  const trail = new AuditTrail();
  await trail.close();
  await assert.rejects(recordAccess(trail, INFO), { code: AuditErrorCode.Closed });
});
