import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProgressBar, progressLine } from '../../cli/progress.js';

const counts = {
  objectsListed: 12,
  objectsSelected: 10,
  objectsSkipped: 2,
  objectsRead: 3,
  eventsMatched: 1500,
};

function stream(isTTY: boolean | undefined) {
  const written: string[] = [];
  return { isTTY, columns: 200, written, write: (text: string) => written.push(text) };
}

test('the progress line: bar, objects read of selected, events, rate, elapsed', () => {
  assert.equal(
    progressLine(counts, 3_000),
    '[##########..........] objects 3 read of 10 (2 skipped), 1500 events, 500/s, 00:03',
  );
});

test('nothing at all is written when the stream is not a terminal', () => {
  for (const isTTY of [false, undefined]) {
    const s = stream(isTTY);
    const bar = new ProgressBar(s);
    bar.update(counts);
    bar.finish(counts);
    assert.deepEqual(s.written, []);
  }
});

test('on a terminal the line is redrawn in place, at most every 100 ms, and ended by finish', () => {
  const s = stream(true);
  let now = 0;
  const bar = new ProgressBar(s, () => now);
  bar.update(counts);
  now = 50;
  bar.update(counts);
  now = 150;
  bar.update(counts);
  bar.finish(counts);
  assert.equal(s.written.length, 4);
  assert.ok(s.written.slice(0, 3).every((line) => line.startsWith('\r\x1b[2K[')));
  assert.equal(s.written[3], '\n');
});
