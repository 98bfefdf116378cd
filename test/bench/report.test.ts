import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median } from '../../bench/figure.js';
import {
  formatRatio,
  formatValue,
  measuredResult,
  ratio,
  renderJson,
  renderMarkdown,
  type Report,
} from '../../bench/report.js';

const MACHINE = {
  cpu: 'Example CPU @ 3.0GHz',
  cpus: 2,
  ramGiB: 7.75,
  os: 'Debian GNU/Linux 12 (bookworm), Linux 6.1.0',
  node: 'v20.20.2',
  kafkajs: '2.2.4',
  broker: 'Apache Kafka 4.4.0 (KRaft, one node, loopback)',
  kcat: '1.7.1',
  load: '0.10, 0.20, 0.30 at the start, 1.50, 0.80, 0.40 at the end',
};

function report(): Report {
  return {
    date: '2026-11-29T08:30:00.000Z',
    mode: 'quick',
    rounds: 3,
    machine: MACHINE,
    results: [
      measuredResult(
        {
          name: 'produce_vs_kafkajs',
          unit: 'events/s',
          better: 'higher',
          description: 'ours | KafkaTransport; baseline bare kafkajs',
        },
        { ours: [30_000, 10_000, 20_000], baseline: [40_000, 50_000, 45_000] },
      ),
      {
        name: 'archive_vs_bare',
        unit: 'events/s',
        better: 'higher',
        description: 'archiver vs a bare consumer.',
        notMeasured: 'the local stack is not running (no .stack/env): npm run stack:up',
        failed: false,
      },
      measuredResult(
        { name: 'add_event_cost_memory', unit: 'µs/event', better: 'lower', description: 'x' },
        { ours: [2.5, 2.25, 2.75], baseline: [1, 1, 0] },
      ),
    ],
  };
}

test('median: the middle value, or the mean of the two middle ones; no values is an error', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
  assert.throws(() => median([]), RangeError);
});

test('ratio is ours / baseline whichever way is better, NaN for a zero or missing baseline', () => {
  assert.equal(ratio(20_000, 40_000), 0.5);
  assert.equal(ratio(3, 1.5), 2);
  assert.ok(Number.isNaN(ratio(1, 0)));
  assert.ok(Number.isNaN(ratio(Number.NaN, 1)));
});

test('a measured result keeps the medians, their ratio and the raw runs in order', () => {
  const result = report().results[0];
  assert.deepEqual(result, {
    name: 'produce_vs_kafkajs',
    unit: 'events/s',
    better: 'higher',
    description: 'ours | KafkaTransport; baseline bare kafkajs',
    ours: 20_000,
    baseline: 45_000,
    ratio: 20_000 / 45_000,
    runs: { ours: [30_000, 10_000, 20_000], baseline: [40_000, 50_000, 45_000] },
  });
});

test('values keep three significant digits with thousands separators; ratios two decimals', () => {
  assert.equal(formatValue(123_456.7), '123,457');
  assert.equal(formatValue(123.4), '123');
  assert.equal(formatValue(12.345), '12.3');
  assert.equal(formatValue(1.2345), '1.23');
  assert.equal(formatValue(0.012345), '0.0123');
  assert.equal(formatValue(0), '0');
  assert.equal(formatValue(Number.NaN), 'n/a');
  assert.equal(formatRatio(0.4444), '0.44');
  assert.equal(formatRatio(Number.NaN), 'n/a');
});

test('RESULTS.md: one table row per figure, not measured with its reason, then the machine', () => {
  const lines = renderMarkdown(report()).split('\n');
  const rows = lines
    .slice(lines.indexOf('| --- | ---: | ---: | ---: | --- | --- | --- |') + 1)
    .filter((line) => line.startsWith('| '));
  assert.deepEqual(rows, [
    '| produce_vs_kafkajs | 20,000 | 45,000 | 0.44 | events/s | higher is better | ours \\| KafkaTransport; baseline bare kafkajs |',
    '| archive_vs_bare | not measured | not measured | n/a | events/s | higher is better | archiver vs a bare consumer. **Not measured**: the local stack is not running (no .stack/env): npm run stack:up |',
    '| add_event_cost_memory | 2.5 | 1 | 2.50 | µs/event | lower is better | x |',
  ]);
  const text = lines.join('\n');
  assert.match(text, /quick run \(small sizes\)/);
  assert.match(text, /then 3 interleaved rounds/);
  for (const line of [
    '- CPU: Example CPU @ 3.0GHz, 2 logical CPUs',
    '- RAM: 7.8 GiB',
    '- OS: Debian GNU/Linux 12 (bookworm), Linux 6.1.0',
    '- Node.js: v20.20.2',
    '- kafkajs: 2.2.4',
    '- Kafka broker: Apache Kafka 4.4.0 (KRaft, one node, loopback)',
    '- kcat: 1.7.1',
    '- load average (1, 5, 15 min): 0.10, 0.20, 0.30 at the start, 1.50, 0.80, 0.40 at the end',
    '- date: 2026-11-29T08:30:00.000Z',
    '- run: quick',
  ])
    assert.ok(lines.includes(line), line);
});

test('results.json: one object per figure with the raw runs; not measured ones have nulls and the reason', () => {
  const json = JSON.parse(renderJson(report())) as {
    mode: string;
    machine: unknown;
    figures: Record<string, unknown>[];
  };
  assert.equal(json.mode, 'quick');
  assert.deepEqual(json.machine, MACHINE);
  assert.deepEqual(json.figures[0], {
    name: 'produce_vs_kafkajs',
    ours: 20_000,
    baseline: 45_000,
    ratio: 20_000 / 45_000,
    unit: 'events/s',
    better: 'higher',
    runs: { ours: [30_000, 10_000, 20_000], baseline: [40_000, 50_000, 45_000] },
  });
  assert.deepEqual(json.figures[1], {
    name: 'archive_vs_bare',
    ours: null,
    baseline: null,
    ratio: null,
    unit: 'events/s',
    better: 'higher',
    runs: { ours: [], baseline: [] },
    notMeasured: 'the local stack is not running (no .stack/env): npm run stack:up',
  });
  assert.equal(json.figures[2]?.['ratio'], 2.5);
});
