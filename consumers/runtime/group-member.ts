/**
 * The membership of a consumer group whose offsets are committed by Kafka
 * transactions rather than by the consumer (the exporter group, the SIEM feed,
 * the monitor): one kafkajs consumer, read_committed, auto-commit off; joined
 * again under RETRY_POLICIES.connect when the coordinator drops the member;
 * any other fault ends the member, and `failed` resolves with it, coded with
 * the operation, topic, group and brokers.
 *
 * What the member does with the records is in `run` (eachBatch or
 * eachMessage); its producers are its own, closed after `stop()`.
 */
import type { Consumer, ConsumerRunConfig, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { AuditError, AuditErrorCode } from '../../common/errors.js';
import { RETRY_POLICIES, retry } from '../../common/retry.js';
import { kafkaBrokers } from '../../kafka/client.js';
import { kafkaError } from '../../kafka/errors.js';
import { membershipLostType } from './membership.js';

export interface GroupMemberOptions {
  kafka: Kafka;
  groupId: string;
  /** The topics read, from the beginning when the group has no offset. */
  topics: readonly string[];
  sessionTimeoutMs: number;
  logger: Logger;
  /** What the member is, for its log lines and errors (`SIEM feed member`). */
  name: string;
  /** How records are handled; offsets are never committed by the consumer. */
  run: Omit<ConsumerRunConfig, 'autoCommit'>;
  /** Each assignment the group gives this member: partitions by topic. */
  onAssignment?: ((assignment: Readonly<Record<string, number[]>>) => void) | undefined;
}

export class GroupMember {
  /** Resolves with the fault that ended the member (never rejects). */
  readonly failed: Promise<AuditError>;
  failure: AuditError | undefined;
  readonly consumer: Consumer;
  private resolveFailed: (error: AuditError) => void = () => undefined;
  private readonly stopping = new AbortController();
  private stopped: Promise<void> | undefined;

  constructor(private readonly options: GroupMemberOptions) {
    this.failed = new Promise((resolve) => (this.resolveFailed = resolve));
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      allowAutoTopicCreation: false,
      // a topic written in transactions is read committed; others are unaffected
      readUncommitted: false,
    });
  }

  /** Aborted by `stop()`, with a CLOSED error as its reason. */
  get signal(): AbortSignal {
    return this.stopping.signal;
  }

  /** Joins the group and runs until `stop()` or a fault (see `failed`). */
  async start(): Promise<void> {
    try {
      await this.consumer.connect();
      const { CRASH, GROUP_JOIN } = this.consumer.events;
      this.consumer.on(CRASH, (event) => this.crashed(event.payload.error, event.payload.restart));
      this.consumer.on(GROUP_JOIN, (event) => {
        const assignment = event.payload.memberAssignment;
        this.options.logger.info({ assignment }, 'partitions assigned');
        this.options.onAssignment?.(assignment);
      });
      await this.subscribeAndRun();
    } catch (error) {
      throw this.coded(error, 'join the group on');
    }
  }

  /** Leaves the group; a handler in progress sees `signal` aborted. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping.abort(
        new AuditError(AuditErrorCode.Closed, `the ${this.options.name} is stopping`),
      );
      await this.consumer.disconnect().catch((error: unknown) => {
        this.options.logger.debug({ err: (error as Error).message }, 'consumer disconnect failed');
      });
    })();
    return this.stopped;
  }

  /** Ends the member with `error` (the first one counts); `failed` resolves with it. */
  fail(error: AuditError): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.options.logger.error(
      { err: error.message, code: error.code },
      `${this.options.name} failed`,
    );
    this.resolveFailed(error);
  }

  /** A kafkajs failure coded with the operation, the topic (by default the topics read), the group and the brokers. */
  coded(error: unknown, operation: string, topic = this.options.topics.join(' and ')): AuditError {
    return kafkaError(error, {
      operation,
      topic,
      group: this.options.groupId,
      brokers: kafkaBrokers(this.options.kafka),
    });
  }

  private async subscribeAndRun(): Promise<void> {
    await this.consumer.subscribe({ topics: [...this.options.topics], fromBeginning: true });
    await this.consumer.run({ ...this.options.run, autoCommit: false });
  }

  private crashed(error: Error, restart: boolean): void {
    const { logger } = this.options;
    if (this.stopping.signal.aborted || restart) {
      if (restart) logger.warn({ err: error.message }, 'consumer restarts after a fault');
      return;
    }
    if (membershipLostType(error) !== undefined) {
      logger.warn({ err: error.message }, 'dropped by the group; joining again');
      retry(
        async () => {
          await this.consumer.connect();
          await this.subscribeAndRun();
        },
        { policy: RETRY_POLICIES.connect, isRetriable: () => !this.stopping.signal.aborted },
      ).catch((cause: unknown) => this.fail(this.coded(cause, 'join the group on')));
      return;
    }
    this.fail(this.coded(error, 'consume'));
  }
}
