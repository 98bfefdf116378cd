/**
 * Metrics of the monitor: alerts by rule, counted when their transaction has
 * committed; the other counts read from the members when the registry is
 * scraped.
 */
import { Counter } from 'prom-client';
import {
  METRIC_PREFIX,
  type MetricsOptions,
  Registry,
  type Sample,
  registerSampled,
} from '../../common/metrics/metrics.js';
import type { Alert } from '../../schemas/alert.js';

/** What a monitor member reports to its metrics. */
export interface ObservedMonitor {
  readonly stats: {
    readonly evaluated: number;
    readonly read: number;
    readonly deadLettered: number;
    readonly skipped: number;
    readonly transactions: number;
  };
  readonly transactionsAborted: number;
}

const M = `${METRIC_PREFIX}monitor_`;

export class MonitorMetrics {
  readonly registry: Registry;
  private readonly monitors = new Set<ObservedMonitor>();
  private readonly alerts: Counter;

  constructor(options: MetricsOptions = {}) {
    this.registry = options.registry ?? new Registry();
    const registry = this.registry;
    const each = (pick: (monitor: ObservedMonitor) => number): Sample[] =>
      [...this.monitors].map((monitor) => [{}, pick(monitor)] as const);
    this.alerts = new Counter({
      name: `${M}alerts_total`,
      help: 'Alerts published, by rule (committed transactions).',
      labelNames: ['rule'],
      registers: [registry],
    });
    registerSampled(registry, [
      {
        name: `${M}records_in_total`,
        help: 'Events read from the events topic (routed, unused by every rule or dead-lettered in committed transactions, or skipped as routed before).',
        read: () => each((m) => m.stats.read + m.stats.skipped),
      },
      {
        name: `${M}records_evaluated_total`,
        help: 'Keyed records evaluated against the rules (committed transactions).',
        read: () => each((m) => m.stats.evaluated),
      },
      {
        name: `${M}dead_letters_total`,
        help: 'Records that do not decode, sent to the dead-letter topic.',
        read: () => each((m) => m.stats.deadLettered),
      },
      {
        name: `${M}transactions_total`,
        help: 'Transactions committed (routing and evaluation).',
        read: () => each((m) => m.stats.transactions),
      },
      {
        name: `${M}transactions_aborted_total`,
        help: 'Transactions that failed and were aborted (their records are processed again).',
        read: () => each((m) => m.transactionsAborted),
      },
    ]);
  }

  /** Reports a member's counts from now on (called by MonitorMember). */
  observe(monitor: ObservedMonitor): void {
    this.monitors.add(monitor);
  }

  /** Alerts whose transaction committed. */
  alertsPublished(alerts: readonly Alert[]): void {
    for (const alert of alerts) this.alerts.inc({ rule: alert.rule });
  }
}
