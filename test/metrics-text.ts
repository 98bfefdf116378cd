/** A small reader of the Prometheus text format, for the tests that scrape /metrics. */
import { readFileSync } from 'node:fs';

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL))
      labels[key as string] = (value as string).replace(/\\(.)/g, (_, c: string) =>
        c === 'n' ? '\n' : c,
      );
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of the samples of `name` whose labels include `labels`; undefined when there is none. */
export function metricValue(
  samples: readonly MetricSample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const matching = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return matching.length === 0 ? undefined : matching.reduce((sum, s) => sum + s.value, 0);
}

/** The metrics a scrape declares (its `# TYPE` lines) whose name starts with `prefix`: name -> type. */
export function declaredMetrics(text: string, prefix: string): Map<string, string> {
  const declared = new Map<string, string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm))
    if ((name as string).startsWith(prefix)) declared.set(name as string, type as string);
  return declared;
}

/** The metrics docs/metrics.md lists (its table rows) whose name starts with `prefix`: name -> type. */
export function documentedMetrics(prefix: string): Map<string, string> {
  const docs = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
  const documented = new Map<string, string>();
  for (const [, name, type] of docs.matchAll(/^\| `(\w+)` +\| (\w+) /gm))
    if ((name as string).startsWith(prefix)) documented.set(name as string, type as string);
  return documented;
}
