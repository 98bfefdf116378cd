/**
 * What the monitor's state promises beyond each rule: the cooldown, events
 * out of order, repeated deliveries, determinism, and that replaying a prefix
 * then evaluating the rest (what a member does after a restart) raises exactly
 * the alerts of evaluating everything at once.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { InstallerSimulation } from '../../cli/simulator.js';
import { MonitorState } from '../../consumers/monitor/monitor-state.js';
import { DEFAULT_MONITOR_RULES } from '../../consumers/monitor/rules.js';
import type { Alert } from '../../schemas/alert.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { MINUTE, SECOND, Script, T0, iso, routed, run } from './monitor-scenario.js';

test('cooldown: a rule fires once, not again within its window, and again after it', () => {
  const s = new Script();
  const [a, b, c] = [0, 1, 2].map((m) => s.integrityFailure(m * MINUTE, { source: `r-${m}` }));
  const during = [3, 4, 5, 11].map((m) => s.integrityFailure(m * MINUTE, { source: `r-${m}` }));
  const after = s.integrityFailure(12 * MINUTE + 30 * SECOND, { source: 'r-12' });
  const alerts = run(s.events);
  assert.deepEqual(
    alerts.map((x) => [x.rule, x.time, x.event_ids]),
    [
      ['integrity-failures-package', iso(2 * MINUTE), [a!.id, b!.id, c!.id]],
      // 10 minutes after the first alert: the newest three failures still in the window
      [
        'integrity-failures-package',
        iso(12 * MINUTE + 30 * SECOND),
        [during[2]!.id, during[3]!.id, after.id],
      ],
    ],
  );
  // the same two alerts with a separate cooldown of an hour: only the first
  const hour = structuredClone(DEFAULT_MONITOR_RULES);
  hour['integrity-failures-package'].cooldownSeconds = 3600;
  assert.equal(run(s.events, hour).length, 1);
});

test('events out of order: counted by event time, late ones within the window included', () => {
  const s = new Script();
  const first = s.integrityFailure(0, { source: 'r-0' });
  const third = s.integrityFailure(2 * MINUTE, { source: 'r-2' });
  const late = s.integrityFailure(MINUTE, { source: 'r-1' });
  const alerts = run(s.events);
  assert.equal(alerts.length, 1);
  // ids in event-time order; the time is that of the event that completed the trigger
  assert.deepEqual(alerts[0]!.event_ids, [first.id, late.id, third.id]);
  assert.equal(alerts[0]!.time, iso(MINUTE));
});

test('an event older than the window before the newest is not counted; a repeated delivery counts once', () => {
  const s = new Script();
  const a = s.integrityFailure(20 * MINUTE, { source: 'r-20' });
  const b = s.integrityFailure(21 * MINUTE, { source: 'r-21' });
  s.integrityFailure(5 * MINUTE, { source: 'r-5' }); // 16 minutes late
  assert.deepEqual(run(s.events), []);
  const c = s.integrityFailure(22 * MINUTE, { source: 'r-22' });
  assert.deepEqual(
    run(s.events).map((x) => x.event_ids),
    [[a.id, b.id, c.id]],
  );

  const again = new Script();
  const x = again.integrityFailure(0, { source: 'r-0' });
  const y = again.integrityFailure(MINUTE, { source: 'r-1' });
  const events = [x, y, y, x];
  assert.deepEqual(run(events), []);
  const z = again.integrityFailure(2 * MINUTE, { source: 'r-2' });
  assert.deepEqual(
    run([...events, z]).map((alert) => alert.event_ids),
    [[x.id, y.id, z.id]],
  );
});

/** A fleet's day: simulated events, with bursts of each rule mixed in, some late. */
function fleet(): AuditEventRecord[] {
  const simulation = new InstallerSimulation(7, T0);
  const simulated = Array.from({ length: 4000 }, () => simulation.next().toRecord());
  const s = new Script();
  for (let i = 0; i < 25; i++) s.failedInstall(5 * SECOND + i * SECOND, { source: 'burst-host' });
  for (let i = 0; i < 12; i++)
    s.runtime(8 * SECOND + i * 2 * SECOND, 'blocked', { source: 'burst-host' });
  for (let i = 0; i < 4; i++)
    s.integrityFailure(3 * SECOND + i * SECOND, { package_name: 'evil-pkg' });
  s.scan(0, 'critical', { package_name: 'vuln-pkg' });
  s.event(30 * SECOND, { package_name: 'vuln-pkg', user: 'mallory', ip_address: '203.0.113.66' });
  s.event(31 * SECOND, { package_name: 'vuln-pkg', user: 'mallory', ip_address: '203.0.113.67' });
  // interleave by position, the scripted ones a little out of time order
  const out: AuditEventRecord[] = [];
  const step = Math.floor(simulated.length / s.events.length);
  simulated.forEach((e, i) => {
    out.push(e);
    const scripted = i % step === 0 ? s.events[i / step] : undefined;
    if (scripted !== undefined) out.push(scripted);
  });
  return out;
}

function digest(alerts: Alert[]): string {
  return createHash('sha256').update(JSON.stringify(alerts)).digest('hex');
}

test('deterministic: the same sequence gives the same alerts with the same ids', () => {
  const events = fleet();
  const one = run(events);
  const two = run(structuredClone(events));
  assert.ok(one.length > 5, `alerts: ${one.length}`);
  assert.deepEqual(two, one);
  assert.equal(digest(two), digest(one));
  const rules = new Set(one.map((a) => a.rule));
  for (const rule of [
    'failure-burst',
    'runtime-block-rate',
    'integrity-failures-package',
    'install-after-vulnerable-scan',
    'new-ip-for-user',
  ])
    assert.ok(rules.has(rule), `${rule} in ${[...rules].join(', ')}`);
  assert.equal(new Set(one.map((a) => a.id)).size, one.length, 'no alert twice');
});

test('replay: a prefix then the rest on one state raises what applying everything raises', () => {
  const pairs = routed(fleet());
  const whole = new MonitorState(DEFAULT_MONITOR_RULES);
  const all = pairs.flatMap(([key, e]) => whole.apply(key, e));
  for (const cut of [0, 1, 137, Math.floor(pairs.length / 2), pairs.length - 1, pairs.length]) {
    // a member after a restart: the records below the committed offset rebuild the state silently
    const state = new MonitorState(DEFAULT_MONITOR_RULES);
    const before = pairs.slice(0, cut).flatMap(([key, e]) => state.apply(key, e));
    const rest = pairs.slice(cut).flatMap(([key, e]) => state.apply(key, e));
    assert.deepEqual([...before, ...rest], all, `cut at ${cut}`);
    assert.deepEqual(rest, all.slice(before.length), `cut at ${cut}`);
    assert.equal(state.size, whole.size);
  }
});

test('keys are independent: states that each hold some keys raise together what one state raises', () => {
  const pairs = routed(fleet());
  const all = new MonitorState(DEFAULT_MONITOR_RULES);
  const expected = pairs.flatMap(([key, e]) => all.apply(key, e));
  const partitions = [0, 1, 2].map(() => new MonitorState(DEFAULT_MONITOR_RULES));
  const partitionOf = (key: string): number => createHash('sha256').update(key).digest()[0]! % 3;
  const alerts = pairs.flatMap(([key, e]) => partitions[partitionOf(key)]!.apply(key, e));
  assert.deepEqual(alerts.map((a) => a.id).sort(), expected.map((a) => a.id).sort());
  assert.equal(
    partitions.reduce((n, p) => n + p.size, 0),
    all.size,
  );
});
