/**
 * What the SIEM feed writes for a run of records of one partition (no I/O):
 * each event rendered in the feed's format for the output topic, with the
 * record's key (the package name) and timestamp, and each record that does not
 * decode for the dead-letter topic. Both go in the same transaction.
 */
import type { Message, TopicMessages } from 'kafkajs';
import { renderSiem, type SiemFormat } from '../../schemas/siem/index.js';
import { deadLetterMessage } from '../runtime/kafka-dead-letters.js';
import { isDeadLetter, type SourceRecord } from '../runtime/record-source.js';

/** Header of every feed record: the format of its value. */
export const SIEM_FORMAT_HEADER = 'siem_format';

export interface FeedTopics {
  format: SiemFormat;
  outputTopic: string;
  dlqTopic: string;
}

export interface FeedMessages {
  topicMessages: TopicMessages[];
  events: number;
  deadLetters: number;
}

export function feedMessages(records: readonly SourceRecord[], topics: FeedTopics): FeedMessages {
  const events: Message[] = [];
  const deadLetters: Message[] = [];
  for (const record of records) {
    if (isDeadLetter(record)) {
      deadLetters.push(deadLetterMessage(record));
      continue;
    }
    if (!('event' in record.decoded)) continue;
    events.push({
      key: record.key,
      value: renderSiem(topics.format, record.decoded.event),
      timestamp: String(record.timestamp),
      headers: { [SIEM_FORMAT_HEADER]: topics.format },
    });
  }
  return {
    topicMessages: [
      { topic: topics.outputTopic, messages: events },
      { topic: topics.dlqTopic, messages: deadLetters },
    ],
    events: events.length,
    deadLetters: deadLetters.length,
  };
}
