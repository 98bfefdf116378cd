import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { AuditErrorCode } from '../../common/errors.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import {
  BATCH_ROWS,
  batchesOf,
  recordBatches,
  type RecordBatches,
} from '../../schemas/record-batches.js';
import {
  csvStringifier,
  EXPORT_FORMATS,
  type ExportFormat,
  neutraliseFormula,
  renderJsonArray,
  renderNdjson,
  toCsvRow,
} from '../../schemas/render.js';
import { CHUNK_CHARS, writeExport } from '../../schemas/write-export.js';
import { collect, record } from '../helpers.js';

/** A writable that keeps the text it is given, and the length of each chunk. */
class TextSink extends Writable {
  text = '';
  chunks: number[] = [];
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    const text = chunk.toString();
    this.text += text;
    this.chunks.push(text.length);
    done();
  }
}

const CELLS = [
  '=1+1',
  '+x',
  '-2',
  '@a',
  '\tcmd',
  '\r\n=2',
  ' =3',
  'a\nb',
  'plain',
  'Ünï',
  '"q", c',
  '"',
  ',',
  'a\r',
  '\r',
  'x""y',
  '🙂,"\n"',
  '',
];

/** Records that vary every field a renderer treats specially. */
function varied(count: number): AuditEventRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const cell = CELLS[i % CELLS.length] as string;
    return record({
      id: `0190b6a2-7c3e-7d4a-9b1e-${String(i).padStart(12, '0')}`,
      timestamp: Date.UTC(2026, 0, 1) + i * 1000,
      user: i % 7 === 0 ? null : cell,
      details: { note: cell, n: String(i) },
      success: i % 5 !== 0,
      error_message: i % 5 === 0 ? `failed: ${cell}` : null,
      source: i % 3 === 0 ? cell : 'host-1',
    });
  });
}

/** The text of each format as the renderers give it one record at a time. */
async function referenceText(format: ExportFormat, records: AuditEventRecord[]): Promise<string> {
  const sink = new TextSink();
  if (format === 'csv')
    await pipeline(Readable.from(records.map(toCsvRow)), csvStringifier(), sink);
  else
    await pipeline(
      Readable.from(format === 'json' ? renderJsonArray(records) : renderNdjson(records)),
      sink,
    );
  return sink.text;
}

async function written(
  format: ExportFormat,
  records: AsyncIterable<AuditEventRecord> | Iterable<AuditEventRecord>,
): Promise<string> {
  const sink = new TextSink();
  await writeExport(format, records, sink);
  return sink.text;
}

/** The records as RecordBatches in batches of the given sizes, in turn. */
function inBatches(records: AuditEventRecord[], sizes: number[]): RecordBatches {
  return recordBatches(async function* () {
    let at = 0;
    for (let i = 0; at < records.length; i++) {
      const size = sizes[i % sizes.length] as number;
      yield records.slice(at, at + size);
      at += size;
    }
  });
}

async function* oneByOne(records: AuditEventRecord[]): AsyncGenerator<AuditEventRecord> {
  yield* records;
}

for (const format of EXPORT_FORMATS) {
  test(`${format}: batches, arrays and async rows give the bytes of the one-row renderers`, async () => {
    for (const count of [0, 1, 7, BATCH_ROWS, 2 * BATCH_ROWS + 345]) {
      const records = varied(count);
      const expected = await referenceText(format, records);
      assert.equal(await written(format, records), expected, `${count} records in an array`);
      assert.equal(
        await written(format, inBatches(records, [1, BATCH_ROWS - 1, BATCH_ROWS, 3])),
        expected,
        `${count} records in uneven batches`,
      );
      assert.equal(await written(format, oneByOne(records)), expected, `${count} records async`);
    }
  });
}

test('csv: runs of random cells (quotes, commas, line breaks, formula signs) give the bytes of the one-row writer', async () => {
  const alphabet = ['a', ',', '"', '\r', '\n', '=', ' ', '\t', '-', '@', 'Ü', '🙂', '+', "'"];
  let seed = 1;
  const pick = (): string => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return alphabet[seed % alphabet.length] as string;
  };
  const cell = (): string => Array.from({ length: 1 + (seed % 6) }, pick).join('');
  const records = Array.from({ length: 3000 }, (_, i) =>
    record({
      user: cell(),
      package_name: cell(),
      details: { [cell()]: cell() },
      error_message: i % 2 === 0 ? cell() : null,
      source: cell(),
    }),
  );
  assert.equal(await written('csv', records), await referenceText('csv', records));
});

for (const format of EXPORT_FORMATS) {
  test(`${format}: chunks are cut near CHUNK_CHARS, none past it by more than a few rows`, async () => {
    const records = varied(3 * BATCH_ROWS);
    const sink = new TextSink();
    await writeExport(format, records, sink);
    const longest = Math.max(...sink.chunks);
    assert.ok(longest < CHUNK_CHARS + 1000, `a chunk of ${longest} characters`);
    assert.ok(sink.chunks.length > sink.text.length / (CHUNK_CHARS + 1000));
  });
}

test('records read as batches or one by one are the same, and can be read once only', async () => {
  const records = varied(2500);
  const byRecord = inBatches(records, [1000, 17]);
  assert.deepEqual(await collect(byRecord), records);
  await assert.rejects(collect(byRecord), { code: AuditErrorCode.InvalidState });
  assert.throws(() => byRecord.batches(), { code: AuditErrorCode.InvalidState });
  const byBatch = inBatches(records, [1000, 17]);
  const batches = await collect(byBatch.batches());
  assert.deepEqual(batches.flat(), records);
  assert.deepEqual(
    batches.map((b) => b.length),
    [1000, 17, 1000, 17, 466],
  );
});

test('an array is cut into batches of at most BATCH_ROWS, none empty', async () => {
  const sizes = (await collect(batchesOf(varied(2 * BATCH_ROWS + 1)))).map((b) => b.length);
  assert.deepEqual(sizes, [BATCH_ROWS, BATCH_ROWS, 1]);
  assert.deepEqual(await collect(batchesOf([])), []);
});

test('the formula guard gives the verdict of its pattern for every first character', () => {
  const pattern = /^[\s\u0000-\u001f]*[=+\-@]|^[\t\r\n]/u;
  const firsts: string[] = [];
  for (let c = 0; c < 0x3100; c++) firsts.push(String.fromCharCode(c));
  firsts.push('\ufeff', '\u205f', '\u3000', '🙂');
  for (const first of firsts)
    for (const rest of ['', '=1', 'a', ' +x', '\n@'])
      assert.equal(
        neutraliseFormula(first + rest) !== first + rest,
        pattern.test(first + rest),
        JSON.stringify(first + rest),
      );
  assert.equal(neutraliseFormula(''), '');
});
