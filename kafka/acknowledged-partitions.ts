/**
 * A send is acknowledged only when the broker's answers name every partition
 * it addressed.
 *
 * kafkajs 2.2.4 can resolve `send()` without having sent the messages of some
 * partitions: when a produce request fails (its broker died), the retry groups
 * the partitions by their new leaders, but skips every broker that answered an
 * earlier attempt. The dead leader's partitions, now led by such a broker, are
 * never sent, and the send resolves with the earlier answers, which do not
 * name them. So each producer here notes, through its partitioner, the
 * partitions a send addresses, and a send whose answers leave one out (or
 * carry an error code) is a failed send: UNAVAILABLE, retriable, naming the
 * partitions; the caller sends the whole batch again (on a new producer
 * session), and the copies this writes on the partitions that were answered
 * are dropped downstream by event id.
 */
import type { ICustomPartitioner, RecordMetadata } from 'kafkajs';
import { AuditError, AuditErrorCode } from '../common/errors.js';

/** The (topic, partition) pairs of the answers of a send that lack an acknowledgement. */
export function unacknowledged(
  addressed: ReadonlyMap<string, ReadonlySet<number>>,
  answers: readonly RecordMetadata[],
): Map<string, number[]> {
  const answered = new Set(
    answers.filter((a) => a.errorCode === 0).map((a) => `${a.topicName}\u0000${a.partition}`),
  );
  const missing = new Map<string, number[]>();
  for (const [topic, partitions] of addressed)
    for (const partition of partitions)
      if (!answered.has(`${topic}\u0000${partition}`))
        missing.set(topic, [...(missing.get(topic) ?? []), partition]);
  return missing;
}

/**
 * The partitions the sends of one kafkajs producer address, noted by its
 * partitioner. Sends through `checked` run one after the other, so that each
 * one's partitions are its own.
 */
export class AcknowledgedPartitions {
  private addressed: Map<string, Set<number>> | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  /** `base` as the producer's partitioner, each choice noted for the send under way. */
  partitioner(base: ICustomPartitioner): ICustomPartitioner {
    return () => {
      const choose = base();
      return (args) => {
        const partition = choose(args);
        const noted = this.addressed;
        if (noted !== undefined) {
          const partitions = noted.get(args.topic);
          if (partitions === undefined) noted.set(args.topic, new Set([partition]));
          else partitions.add(partition);
        }
        return partition;
      };
    };
  }

  /**
   * Runs `send` (a kafkajs `send` or `sendBatch` of this producer) after the
   * ones before it; throws UNAVAILABLE when its answers leave out a partition
   * it addressed.
   */
  checked(send: () => Promise<RecordMetadata[]>): Promise<RecordMetadata[]> {
    const run = this.queue.then(async () => {
      const addressed = new Map<string, Set<number>>();
      this.addressed = addressed;
      let answers: RecordMetadata[];
      try {
        answers = await send();
      } finally {
        this.addressed = undefined;
      }
      const missing = unacknowledged(addressed, answers);
      if (missing.size > 0)
        throw new AuditError(
          AuditErrorCode.Unavailable,
          `Kafka did not acknowledge every partition of the send: ${[...missing]
            .map(([topic, partitions]) => `${topic} partitions ${partitions.join(', ')}`)
            .join('; ')} (the client resolved it without their answers); sending again`,
          { retriable: true },
        );
      return answers;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
