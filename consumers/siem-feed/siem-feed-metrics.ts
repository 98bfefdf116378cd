/**
 * Metrics of the SIEM feed, read from the members' counts when the registry
 * is scraped.
 */
import {
  METRIC_PREFIX,
  type MetricsOptions,
  Registry,
  type Sample,
  registerSampled,
} from '../../common/metrics/metrics.js';

/** What a feed member reports to its metrics. */
export interface ObservedFeed {
  readonly format: string;
  readonly stats: {
    readonly published: number;
    readonly deadLettered: number;
    readonly skipped: number;
    readonly transactions: number;
  };
  readonly transactionsAborted: number;
}

const S = `${METRIC_PREFIX}siem_feed_`;

export class SiemFeedMetrics {
  readonly registry: Registry;
  private readonly feeds = new Set<ObservedFeed>();

  constructor(options: MetricsOptions = {}) {
    this.registry = options.registry ?? new Registry();
    const each = (pick: (feed: ObservedFeed) => number): Sample[] =>
      [...this.feeds].map((feed) => [{ format: feed.format }, pick(feed)] as const);
    const labels = ['format'];
    registerSampled(this.registry, [
      {
        name: `${S}records_in_total`,
        help: 'Records read from the events topic (published, dead-lettered, or skipped as published before).',
        labels,
        read: () => each((f) => f.stats.published + f.stats.deadLettered + f.stats.skipped),
      },
      {
        name: `${S}records_out_total`,
        help: 'Events published on the output topic, by format (committed transactions).',
        labels,
        read: () => each((f) => f.stats.published),
      },
      {
        name: `${S}dead_letters_total`,
        help: 'Records that do not decode, sent to the dead-letter topic.',
        labels,
        read: () => each((f) => f.stats.deadLettered),
      },
      {
        name: `${S}transactions_total`,
        help: 'Transactions committed.',
        labels,
        read: () => each((f) => f.stats.transactions),
      },
      {
        name: `${S}transactions_aborted_total`,
        help: 'Transactions that failed and were aborted (their records are published again).',
        labels,
        read: () => each((f) => f.transactionsAborted),
      },
    ]);
  }

  /** Reports a member's counts from now on (called by SiemFeedMember). */
  observe(feed: ObservedFeed): void {
    this.feeds.add(feed);
  }
}
