import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  bareCells,
  bareCsvStringifier,
  bareJson,
  ByteCounter,
  simulatedEvents,
} from '../../bench/local-fixtures.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { csvStringifier, toCsvRow, toExportObject } from '../../schemas/render.js';

function records(count: number): AuditEventRecord[] {
  return simulatedEvents(count).map((event) => ({ ...event.toRecord(), source: 'bench-host' }));
}

async function counted(chunks: Iterable<string | Buffer | string[]>, csv?: boolean) {
  const sink = new ByteCounter();
  if (csv === true) await pipeline(Readable.from(chunks), bareCsvStringifier(), sink);
  else await pipeline(Readable.from(chunks), sink);
  return sink.bytes;
}

test('the bare JSON of an event is the JSON of its export object: the baselines render the same rows', () => {
  for (const record of records(2000))
    assert.equal(bareJson(record), JSON.stringify(toExportObject(record)));
});

test('the bare CSV cells are the export cells before the formula guard, and csv-stringify gets the same options', async () => {
  const rows = records(2000);
  let guarded = 0;
  for (const record of rows) {
    const bare = bareCells(record);
    const ours = toCsvRow(record);
    assert.equal(bare.length, ours.length);
    bare.forEach((cell, i) => {
      if (ours[i] === cell) return;
      guarded++;
      assert.equal(ours[i], `'${cell}`);
    });
  }
  // scoped package names (@babel/core) are cells the guard prefixes
  assert.ok(guarded > 0);
  const plain = rows.filter((record) =>
    bareCells(record).every((cell, i) => cell === toCsvRow(record)[i]),
  );
  const theirs = new ByteCounter();
  await pipeline(Readable.from(plain.map(toCsvRow)), csvStringifier(), theirs);
  assert.equal(await counted(plain.map(bareCells), true), theirs.bytes);
});

test('the byte counter counts bytes, not characters, of strings and buffers', async () => {
  assert.equal(await counted(['ab', 'é', Buffer.from([1, 2, 3]), '€']), 2 + 2 + 3 + 3);
  assert.equal(await counted([]), 0);
});

test('the simulated events are the same for the same seed (ids apart), others for another seed', () => {
  const withoutIds = (seed: number) =>
    simulatedEvents(50, seed).map((event) => {
      const { id: _, ...rest } = event.toRecord();
      return rest;
    });
  assert.deepEqual(withoutIds(3), withoutIds(3));
  assert.notDeepEqual(withoutIds(3), withoutIds(4));
});
