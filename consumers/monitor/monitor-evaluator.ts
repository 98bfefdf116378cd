/**
 * The evaluate step of the monitor: each record of the keyed topic is applied
 * to the rule state of its partition (a MonitorState per keyed partition); the
 * alerts it raises are published on the alerts topics in one transaction with
 * the keyed topic's offset.
 *
 * The state is rebuilt from the keyed topic, never stored elsewhere: when a
 * keyed partition is assigned (or its state was dropped after a failure), its
 * state starts empty at the partition's low watermark and the consumer is sent
 * back there (`seek`; kafkajs then reports the batch in hand as stale and
 * fetches the partition from that offset). Records below the group's committed
 * offset are applied without publishing: their alerts were committed with that
 * offset. Records from it on are evaluated and their alerts published. The
 * state is thus a function of the partition's records alone, the same on any
 * member, and an alert is published once for a read_committed reader.
 */
import type { MonitorMetrics } from './monitor-metrics.js';
import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import type { Alert } from '../../schemas/alert.js';
import type { SchemaSet } from '../../schemas/schema-set.js';
import { decodeRecord } from '../runtime/decode-record.js';
import type { TransactionalPartitions } from '../runtime/transactional-partitions.js';
import { alertMessages, type AlertTopics } from './monitor-records.js';
import { MonitorState } from './monitor-state.js';
import type { MonitorRules } from './rules.js';

export interface EvaluateStats {
  /** Keyed records applied below the committed offset while a state was rebuilt (not published again). */
  replayed: number;
  /** Keyed records evaluated from the committed offset on (committed transactions). */
  evaluated: number;
  /** Alerts published (committed transactions). */
  alerts: number;
  /** Keyed records that did not decode (none are written by the route step) and were passed over. */
  undecodable: number;
  /** Times the consumer was sent back to where a state had to be rebuilt from. */
  rebuilds: number;
  transactions: number;
}

export interface MonitorEvaluatorOptions {
  keyedTopic: string;
  topics: AlertTopics;
  rules: MonitorRules;
  schemas: SchemaSet;
  transactions: TransactionalPartitions;
  /** Most keyed records evaluated in one transaction. */
  batchEvents: number;
  /** The earliest retained offset of a keyed partition. */
  lowWatermark: (partition: number) => Promise<bigint>;
  /** Sends the consumer back to `offset` of a keyed partition. */
  seek: (partition: number, offset: bigint) => void;
  logger: Logger;
  metrics?: MonitorMetrics | undefined;
}

interface PartitionState {
  state: MonitorState;
  /** The next offset the state has to apply: every record below it is applied (or is not a record). */
  position: bigint;
  /** The assignment the state belongs to (see MonitorMember.assignmentOf). */
  assignment: number;
}

export class MonitorEvaluator {
  readonly stats: EvaluateStats = {
    replayed: 0,
    evaluated: 0,
    alerts: 0,
    undecodable: 0,
    rebuilds: 0,
    transactions: 0,
  };
  private readonly states = new Map<number, PartitionState>();

  constructor(private readonly options: MonitorEvaluatorOptions) {}

  /** Keys held by the states of all keyed partitions of this member. */
  get keys(): number {
    let keys = 0;
    for (const held of this.states.values()) keys += held.state.size;
    return keys;
  }

  /** Drops the state of a keyed partition that is no longer assigned to this member. */
  revoke(partition: number): void {
    if (this.states.delete(partition))
      this.options.logger.info({ partition }, 'state of the revoked keyed partition dropped');
  }

  /**
   * Handles one batch of a keyed partition; `assignment` identifies the
   * assignment under which the batch was fetched, and `current` tells whether
   * it still holds (checked before each transaction).
   */
  async handle(
    payload: EachBatchPayload,
    assignment: number,
    current: () => boolean,
  ): Promise<void> {
    const { batch } = payload;
    const { partition } = batch;
    const o = this.options;
    const first = BigInt(batch.firstOffset() ?? batch.lastOffset());
    let held = this.states.get(partition);
    if (held === undefined || held.assignment !== assignment || first > held.position) {
      const low = await o.lowWatermark(partition);
      if (held === undefined || held.assignment !== assignment) {
        // a new owner: fence the earlier producer again and read the committed offset afresh
        o.transactions.drop(partition);
        held = { state: new MonitorState(o.rules), position: low, assignment };
        this.states.set(partition, held);
        o.logger.info(
          { partition, from: String(low) },
          'rebuilding the state of a keyed partition from its earliest record',
        );
      } else if (low > held.position) {
        o.logger.warn(
          { partition, position: String(held.position), low: String(low) },
          'keyed records were deleted by retention before the state applied them',
        );
        held.position = low;
      }
      if (first > held.position) {
        this.stats.rebuilds++;
        o.seek(partition, held.position);
        return;
      }
    }
    const next = await o.transactions.next(partition);
    const messages = batch.messages;
    let start = 0;
    while (start < messages.length && offsetOf(messages[start]) < held.position) start++;
    // already applied: fetched again from the committed offset after a rebalance that kept the partition
    if (start > 0) payload.resolveOffset(String(offsetOf(messages[start - 1])));
    for (let i = start; i < messages.length; i += o.batchEvents) {
      if (!payload.isRunning() || payload.isStale() || !current()) return;
      if (this.states.get(partition) !== held) return;
      const run = messages.slice(i, i + o.batchEvents);
      const last = offsetOf(run[run.length - 1]);
      const alerts: Alert[] = [];
      let evaluated = 0;
      let replayed = 0;
      try {
        for (const message of run) {
          const raised = this.apply(held.state, partition, message);
          if (next !== undefined && offsetOf(message) < next) replayed++;
          else {
            evaluated++;
            alerts.push(...raised);
          }
        }
        if (evaluated > 0) {
          await o.transactions.commit(partition, alertMessages(alerts, o.topics), last + 1n);
          this.stats.transactions++;
        }
      } catch (error) {
        // the state holds records whose transaction did not commit: it is rebuilt at the next batch
        if (this.states.get(partition) === held) this.states.delete(partition);
        throw error;
      }
      held.position = last + 1n;
      payload.resolveOffset(String(last));
      this.stats.replayed += replayed;
      this.stats.evaluated += evaluated;
      this.stats.alerts += alerts.length;
      o.metrics?.alertsPublished(alerts);
      for (const alert of alerts)
        o.logger.warn(
          { rule: alert.rule, key: alert.key, severity: alert.severity, id: alert.id },
          alert.message,
        );
      await payload.heartbeat();
    }
    // the batch's last offset may be a transaction marker after the last record
    const end = BigInt(batch.lastOffset()) + 1n;
    if (end > held.position) held.position = end;
  }

  private apply(state: MonitorState, partition: number, message: KafkaMessage): Alert[] {
    const decoded = decodeRecord(this.options.schemas, message.value);
    const key = message.key?.toString('utf8');
    if (!('event' in decoded) || key === undefined) {
      this.stats.undecodable++;
      this.options.logger.warn(
        { partition, offset: message.offset },
        'a keyed record that does not decode or has no key was passed over',
      );
      return [];
    }
    return state.apply(key, decoded.event);
  }
}

function offsetOf(message: KafkaMessage | undefined): bigint {
  return BigInt((message as KafkaMessage).offset);
}
