import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BenchContext, Figure } from '../../bench/figure.js';
import { figureRounds, measureFigure, parseBenchArgs, selectFigures } from '../../bench/measure.js';

function context(): BenchContext {
  return {
    quick: true,
    stack: undefined,
    work: '/nonexistent',
    size: (_full, quick) => quick,
    log: () => undefined,
  };
}

/** A figure whose sides return the next value of their list and record the order of calls. */
function scripted(
  calls: string[],
  ours: number[],
  baseline: number[],
  overrides: Partial<Figure> = {},
): Figure {
  return {
    name: 'scripted',
    unit: 'events/s',
    better: 'higher',
    description: 'scripted',
    needsStack: false,
    setup: async () => void calls.push('setup'),
    ours: async () => (calls.push('ours'), ours.shift() ?? Number.NaN),
    baseline: async () => (calls.push('baseline'), baseline.shift() ?? Number.NaN),
    teardown: async () => void calls.push('teardown'),
    ...overrides,
  };
}

/** The calls of `count` interleaved rounds. */
function rounds(count: number): string[] {
  return Array.from({ length: count }, () => ['ours', 'baseline']).flat();
}

test('a figure: setup, a warm-up of each side left out, interleaved rounds, teardown; medians and ratio', async () => {
  const calls: string[] = [];
  const result = await measureFigure(
    scripted(calls, [999, 10, 30, 20], [1, 40, 20, 30]),
    context(),
    3,
  );
  assert.deepEqual(calls, ['setup', ...rounds(4), 'teardown']);
  assert.ok('runs' in result);
  assert.deepEqual(result.runs, { ours: [10, 30, 20], baseline: [40, 20, 30] });
  assert.equal(result.ours, 20);
  assert.equal(result.baseline, 30);
  assert.equal(result.ratio, 20 / 30);
});

test("a figure's own warm-up replaces the warm-up round and is left out of the results", async () => {
  const calls: string[] = [];
  const result = await measureFigure(
    scripted(calls, [10, 30, 20], [40, 20, 30], {
      warmUp: async () => void calls.push('warm-up'),
    }),
    context(),
    3,
  );
  assert.deepEqual(calls, ['setup', 'warm-up', ...rounds(3), 'teardown']);
  assert.ok('runs' in result);
  assert.deepEqual(result.runs, { ours: [10, 30, 20], baseline: [40, 20, 30] });
});

test('a failing figure is not measured, with its error, and is torn down', async () => {
  const calls: string[] = [];
  const failing = scripted(calls, [1, 2], [1], {
    baseline: async () => {
      calls.push('baseline');
      if (calls.filter((call) => call === 'baseline').length === 2)
        throw new Error('broker refused');
      return 1;
    },
  });
  const result = await measureFigure(failing, context(), 3);
  assert.deepEqual(calls, ['setup', 'ours', 'baseline', 'ours', 'baseline', 'teardown']);
  assert.deepEqual(result, {
    name: 'scripted',
    unit: 'events/s',
    better: 'higher',
    description: 'scripted',
    notMeasured: 'failed: broker refused',
    failed: true,
  });
});

test('a figure unavailable here is not measured, with its reason, not failed, and nothing of it runs', async () => {
  const calls: string[] = [];
  const result = await measureFigure(
    scripted(calls, [1, 1, 1, 1], [1, 1, 1, 1], {
      unavailable: async () => (calls.push('unavailable'), 'the client could not be installed'),
    }),
    context(),
    3,
  );
  assert.deepEqual(calls, ['unavailable']);
  assert.deepEqual(result, {
    name: 'scripted',
    unit: 'events/s',
    better: 'higher',
    description: 'scripted',
    notMeasured: 'the client could not be installed',
    failed: false,
  });
});

test('a figure available here (no reason) is measured as usual', async () => {
  const calls: string[] = [];
  const result = await measureFigure(
    scripted(calls, [1, 2, 2, 2], [1, 4, 4, 4], {
      unavailable: async () => void calls.push('unavailable'),
    }),
    context(),
    3,
  );
  assert.equal(calls[0], 'unavailable');
  assert.equal(calls[1], 'setup');
  assert.ok('ratio' in result);
  assert.equal(result.ratio, 0.5);
});

test('a figure whose availability check throws fails, with the error', async () => {
  const result = await measureFigure(
    scripted([], [], [], {
      unavailable: async () => {
        throw new Error('install.sh: EACCES');
      },
    }),
    context(),
    3,
  );
  assert.ok('notMeasured' in result);
  assert.equal(result.notMeasured, 'failed: install.sh: EACCES');
  assert.equal(result.failed, true);
});

test('a side that returns no number fails the figure instead of entering the medians', async () => {
  const result = await measureFigure(scripted([], [1, Number.NaN], [1, 1]), context(), 3);
  assert.ok('notMeasured' in result);
  assert.equal(result.notMeasured, 'failed: scripted: ours returned NaN, not a measurement');
});

test('command line: --quick gives 3 rounds, 5 otherwise, --only splits names, mistakes are named', () => {
  assert.deepEqual(parseBenchArgs([]), {
    quick: false,
    only: undefined,
    rounds: 5,
    out: undefined,
    stack: undefined,
    list: false,
  });
  assert.deepEqual(parseBenchArgs(['--quick', '--only', 'a, b', '--out=/tmp/x', '--stack', '/s']), {
    quick: true,
    only: ['a', 'b'],
    rounds: 3,
    out: '/tmp/x',
    stack: '/s',
    list: false,
  });
  assert.equal(parseBenchArgs(['--rounds', '7']).rounds, 7);
  assert.throws(
    () => parseBenchArgs(['--rounds', '2']),
    /--rounds must be an integer of 3 or more/,
  );
  assert.throws(() => parseBenchArgs(['--only']), /--only needs a value/);
  assert.throws(() => parseBenchArgs(['--fast']), /unknown argument --fast/);
});

test('--only keeps the suite order and names unknown figures; two figures may not share a name', () => {
  const figure = (name: string): Figure => ({ ...scripted([], [], []), name });
  const all = [figure('a'), figure('b'), figure('c')];
  assert.deepEqual(
    selectFigures(all, ['c', 'a']).map((f) => f.name),
    ['a', 'c'],
  );
  assert.equal(selectFigures(all, undefined).length, 3);
  assert.throws(() => selectFigures(all, ['a', 'z']), /unknown figure z; the figures are a, b, c/);
  assert.throws(
    () => selectFigures([figure('a'), figure('a')], undefined),
    /two figures are named a/,
  );
});

test('a paired figure: one run gives both sides, its own round count, its notes in the settings text', async () => {
  const calls: string[] = [];
  const pairs = [
    { ours: 1, baseline: 1 },
    { ours: 10, baseline: 20, note: 'lag 5%' },
    { ours: 30, baseline: 40 },
    { ours: 20, baseline: 30, note: 'lag 1%' },
  ];
  const figure = scripted(calls, [], [], {
    paired: async () => (calls.push('paired'), pairs.shift() ?? { ours: NaN, baseline: NaN }),
    rounds: { quick: 3, full: 4 },
  });
  const result = await measureFigure(figure, context(), 7);
  assert.deepEqual(calls, ['setup', 'paired', 'paired', 'paired', 'paired', 'teardown']);
  assert.ok('ours' in result);
  assert.equal(result.ours, 20);
  assert.equal(result.baseline, 30);
  assert.deepEqual(result.runs, { ours: [10, 30, 20], baseline: [20, 40, 30] });
  assert.match(result.description, /^scripted round 1: lag 5%; round 3: lag 1%\.$/);
  assert.equal(figureRounds(figure, false, 7), 4);
  assert.equal(figureRounds({ ...figure, rounds: { quick: 1, full: 1 } }, true, 7), 3);
  assert.equal(figureRounds({ ...figure, rounds: undefined }, true, 7), 7);
});

test('a paired run that returns no measurement fails the figure', async () => {
  const result = await measureFigure(
    scripted([], [], [], { paired: async () => ({ ours: 5, baseline: Number.NaN }) }),
    context(),
    3,
  );
  assert.ok('notMeasured' in result);
  assert.match(result.notMeasured, /baseline returned NaN/);
});
