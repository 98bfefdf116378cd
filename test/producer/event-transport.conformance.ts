/**
 * The behaviour every EventTransport must have. Each implementation's test
 * file calls `eventTransportConformance` with a factory of fresh transports and
 * a reader of what they made durable.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { AuditErrorCode } from '../../common/errors.js';
import type { EventTransport } from '../../producer/transport.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { encodeSingleObject } from '../../schemas/single-object.js';
import { record } from '../helpers.js';

export interface TransportHarness {
  transport: EventTransport;
  /** What is durable at the transport's destination, in order; waits until `expected` are there. */
  durable: (expected: number) => Promise<Buffer[]>;
}

const schemas = auditEventSchemas();

function events(count: number): { record: AuditEventRecord; encoded: Buffer }[] {
  return Array.from({ length: count }, (_, i) => {
    const r = record({
      id: `0190b6a2-7c3e-7d4a-9b1e-${String(i).padStart(12, '0')}`,
      package_name: `pkg-${i % 3}`,
    });
    return { record: r, encoded: encodeSingleObject(schemas, r) };
  });
}

export function eventTransportConformance(
  name: string,
  makeHarness: (t: TestContext) => Promise<TransportHarness>,
): void {
  test(`${name}: flush makes every sent event durable, in order`, async (t) => {
    const { transport, durable } = await makeHarness(t);
    assert.ok(transport.kind.length > 0);
    const sent = events(50);
    for (const e of sent) transport.send(e.record, e.encoded);
    await transport.flush();
    assert.equal(transport.unwritten, 0);
    assert.deepEqual(
      await durable(50),
      sent.map((e) => e.encoded),
    );
    await transport.close();
  });

  test(`${name}: flush with nothing sent resolves`, async (t) => {
    const { transport } = await makeHarness(t);
    await transport.flush();
    await transport.close();
  });

  test(`${name}: close makes what was sent durable, and close after close resolves`, async (t) => {
    const { transport, durable } = await makeHarness(t);
    const sent = events(5);
    for (const e of sent) transport.send(e.record, e.encoded);
    await transport.close();
    await transport.close();
    assert.deepEqual(
      await durable(5),
      sent.map((e) => e.encoded),
    );
  });

  test(`${name}: send after close is refused (CLOSED) and keeps nothing`, async (t) => {
    const { transport, durable } = await makeHarness(t);
    const [first, second] = events(2) as [
      { record: AuditEventRecord; encoded: Buffer },
      { record: AuditEventRecord; encoded: Buffer },
    ];
    transport.send(first.record, first.encoded);
    await transport.close();
    assert.throws(() => transport.send(second.record, second.encoded), {
      code: AuditErrorCode.Closed,
    });
    assert.deepEqual(await durable(1), [first.encoded]);
  });
}
