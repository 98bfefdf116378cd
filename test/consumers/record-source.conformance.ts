/**
 * The behaviour every RecordSource must have, over one partition. Each
 * implementation's test file calls `recordSourceConformance` with a factory of
 * fresh harnesses: an empty partition to append to, and readers of it that
 * share their commits (the same group, the same spool).
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuditErrorCode } from '../../common/errors.js';
import {
  type BatchResult,
  isDeadLetter,
  type RecordConsumer,
  type RecordSource,
  type SourceRecord,
} from '../../consumers/runtime/record-source.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { encodeSingleObject } from '../../schemas/single-object.js';
import { record } from '../helpers.js';

export interface SourceHarness {
  /** Appends values to the partition the sources read; offsets start at 0. */
  append(values: Buffer[]): Promise<void>;
  /** A new reader of the partition; readers of one harness share their commits. */
  open(): RecordSource;
  topic: string;
  /** How long a first batch may take (a group join). */
  deliveryTimeoutMs: number;
}

const schemas = auditEventSchemas();

function events(from: number, count: number): { ids: string[]; values: Buffer[] } {
  const ids = Array.from(
    { length: count },
    (_, i) => `0190b6a2-7c3e-7d4a-9b1e-${String(from + i).padStart(12, '0')}`,
  );
  return { ids, values: ids.map((id) => encodeSingleObject(schemas, record({ id }))) };
}

/** A consumer that records what it is given; `answer` decides what it returns for each batch. */
function recorder(
  options: {
    startAt?: number;
    answer?: (records: readonly SourceRecord[], lastOffset: number) => BatchResult | undefined;
  } = {},
) {
  const seen: SourceRecord[] = [];
  const calls: string[] = [];
  const consumer: RecordConsumer = {
    assigned: (partitions) => {
      calls.push(`assigned ${partitions.join(',')}`);
      return Promise.resolve();
    },
    batch: (records, context) => {
      calls.push(`batch ${records[0]?.offset ?? '-'}..${context.lastOffset}`);
      seen.push(...records);
      const answer = options.answer ?? (() => ({ done: undefined, taken: context.lastOffset }));
      return Promise.resolve(answer(records, context.lastOffset));
    },
  };
  if (options.startAt !== undefined) {
    const startAt = options.startAt;
    consumer.startAt = () => Promise.resolve(startAt);
  }
  return { consumer, seen, calls };
}

async function until(what: string, timeoutMs: number, done: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Opens a reader, stopped after the test whatever happens. */
function opened(t: TestContext, harness: SourceHarness): RecordSource {
  const source = harness.open();
  t.after(() => source.stop());
  return source;
}

export function recordSourceConformance(
  name: string,
  makeHarness: (t: TestContext) => Promise<SourceHarness>,
): void {
  test(`${name}: every record once, in offset order, decoded, after the assignment`, async (t) => {
    const h = await makeHarness(t);
    const { ids, values } = events(0, 30);
    await h.append(values);
    const { consumer, seen, calls } = recorder();
    await opened(t, h).start(consumer);
    await until('30 records', h.deliveryTimeoutMs, () => seen.length >= 30);
    await sleep(300); // nothing more comes
    assert.deepEqual(
      seen.map((r) => r.offset),
      Array.from({ length: 30 }, (_, i) => i),
    );
    assert.deepEqual(
      seen.map((r) => ('event' in r.decoded ? r.decoded.event.id : r.decoded.error.message)),
      ids,
    );
    assert.ok(seen.every((r) => r.topic === h.topic && r.partition === 0));
    assert.ok(seen.every((r, i) => r.value?.equals(values[i] as Buffer)));
    assert.equal(calls[0], 'assigned 0');
  });

  test(`${name}: a record that does not decode comes in its place, with the reason and its bytes`, async (t) => {
    const h = await makeHarness(t);
    const garbage = Buffer.from('not avro at all');
    const { values } = events(0, 2);
    await h.append([values[0] as Buffer, garbage, values[1] as Buffer]);
    const { consumer, seen } = recorder();
    await opened(t, h).start(consumer);
    await until('3 records', h.deliveryTimeoutMs, () => seen.length >= 3);
    assert.deepEqual(
      seen.map((r) => isDeadLetter(r)),
      [false, true, false],
    );
    const letter = seen[1] as SourceRecord;
    assert.ok(isDeadLetter(letter));
    assert.equal(letter.decoded.error.code, AuditErrorCode.DecodeFailed);
    assert.deepEqual(letter.value, garbage);
  });

  test(`${name}: nothing below the consumer's start position is delivered`, async (t) => {
    const h = await makeHarness(t);
    await h.append(events(0, 20).values);
    const { consumer, seen } = recorder({ startAt: 12 });
    await opened(t, h).start(consumer);
    await until('records 12..19', h.deliveryTimeoutMs, () => seen.at(-1)?.offset === 19);
    assert.deepEqual(
      seen.map((r) => r.offset),
      [12, 13, 14, 15, 16, 17, 18, 19],
    );
  });

  test(`${name}: commit, stop and open again: delivery goes on at the commit`, async (t) => {
    const h = await makeHarness(t);
    await h.append(events(0, 20).values);
    const first = recorder();
    const source = opened(t, h);
    await source.start(first.consumer);
    await until('20 records', h.deliveryTimeoutMs, () => first.seen.length >= 20);
    await source.commit(0, 10);
    await source.stop();
    await h.append(events(20, 5).values);
    const again = recorder();
    await opened(t, h).start(again.consumer);
    await until('records 10..24', h.deliveryTimeoutMs, () => again.seen.at(-1)?.offset === 24);
    assert.deepEqual(
      again.seen.map((r) => r.offset),
      Array.from({ length: 15 }, (_, i) => 10 + i),
    );
  });

  test(`${name}: a batch not handled comes again, and a seek delivers again from its offset`, async (t) => {
    const h = await makeHarness(t);
    await h.append(events(0, 10).values);
    let answers = 0;
    const { consumer, calls, seen } = recorder({
      answer: (_records, lastOffset) => {
        answers++;
        if (answers === 1) return undefined; // not handled: the same records again
        if (answers === 2) return { seek: 7 };
        return { done: undefined, taken: lastOffset };
      },
    });
    await opened(t, h).start(consumer);
    await until(
      'three batches',
      h.deliveryTimeoutMs,
      () => answers >= 3 && seen.at(-1)?.offset === 9,
    );
    const batches = calls.filter((c) => c.startsWith('batch'));
    assert.match(batches[0] ?? '', /^batch 0\.\./);
    assert.match(batches[1] ?? '', /^batch 0\.\./);
    assert.match(batches[2] ?? '', /^batch 7\.\./);
  });

  test(`${name}: backlog is the end of a partition with uncommitted records`, async (t) => {
    const h = await makeHarness(t);
    await h.append(events(0, 7).values);
    const { consumer, seen } = recorder();
    const source = opened(t, h);
    assert.deepEqual([...(await source.backlog())], [[0, 7]]);
    await source.start(consumer);
    await until('7 records', h.deliveryTimeoutMs, () => seen.length >= 7);
    await source.commit(0, 7);
    assert.deepEqual([...(await source.backlog())], []);
  });

  test(`${name}: stop is idempotent and nothing is delivered after it`, async (t) => {
    const h = await makeHarness(t);
    await h.append(events(0, 5).values);
    const { consumer, seen } = recorder();
    const source = opened(t, h);
    await source.start(consumer);
    await until('5 records', h.deliveryTimeoutMs, () => seen.length >= 5);
    await Promise.all([source.stop(), source.stop()]);
    await source.stop();
    await h.append(events(5, 5).values);
    await sleep(1000);
    assert.equal(seen.length, 5);
  });

  test(`${name}: a second start is refused (INVALID_STATE)`, async (t) => {
    const h = await makeHarness(t);
    const source = opened(t, h);
    await source.start(recorder().consumer);
    await assert.rejects((async () => source.start(recorder().consumer))(), {
      code: AuditErrorCode.InvalidState,
    });
  });

  test(`${name}: holdsAssignment is true while it runs`, async (t) => {
    const h = await makeHarness(t);
    await h.append(events(0, 1).values);
    const { consumer, seen } = recorder();
    const source = opened(t, h);
    await source.start(consumer);
    await until('1 record', h.deliveryTimeoutMs, () => seen.length >= 1);
    assert.equal(source.holdsAssignment(), true);
  });
}
