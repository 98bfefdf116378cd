/**
 * What the monitor writes (no I/O). The route step copies each event of a run
 * of records of one events partition to the keyed topic, once per state key
 * the rules need (the same bytes, the state key as the Kafka key), and each
 * record that does not decode to the dead-letter topic; the evaluate step
 * writes each alert as JSON and as an OCSF Detection Finding, keyed by its
 * state key. Each step's records go in one transaction with its input offset.
 */
import type { Message, TopicMessages } from 'kafkajs';
import { type Alert, renderAlertJson } from '../../schemas/alert.js';
import { renderAlertOcsf } from '../../schemas/siem/alert-ocsf.js';
import { deadLetterMessage } from '../runtime/kafka-dead-letters.js';
import { isDeadLetter, type SourceRecord } from '../runtime/record-source.js';
import { monitorKeys } from './monitor-keys.js';
import type { MonitorRules } from './rules.js';

/** Header of every record of the keyed topic: its state key (also the record's key). */
export const MONITOR_KEY_HEADER = 'monitor_key';

export interface RouteTopics {
  keyedTopic: string;
  dlqTopic: string;
}

export interface RoutedMessages {
  topicMessages: TopicMessages[];
  /** Records written to the keyed topic (an event counts once per state key). */
  routed: number;
  /** Events that no enabled rule can use. */
  unused: number;
  deadLetters: number;
}

export function routeMessages(
  records: readonly SourceRecord[],
  rules: MonitorRules,
  topics: RouteTopics,
): RoutedMessages {
  const keyed: Message[] = [];
  const deadLetters: Message[] = [];
  let unused = 0;
  for (const record of records) {
    if (isDeadLetter(record)) {
      deadLetters.push(deadLetterMessage(record));
      continue;
    }
    if (!('event' in record.decoded)) continue;
    const keys = monitorKeys(record.decoded.event, rules);
    if (keys.length === 0) unused++;
    for (const key of keys)
      keyed.push({
        key,
        value: record.value,
        timestamp: String(record.timestamp),
        headers: { ...record.headers, [MONITOR_KEY_HEADER]: key },
      });
  }
  return {
    topicMessages: [
      { topic: topics.keyedTopic, messages: keyed },
      { topic: topics.dlqTopic, messages: deadLetters },
    ],
    routed: keyed.length,
    unused,
    deadLetters: deadLetters.length,
  };
}

export interface AlertTopics {
  alertsTopic: string;
  alertsOcsfTopic: string;
}

export function alertMessages(alerts: readonly Alert[], topics: AlertTopics): TopicMessages[] {
  return [
    {
      topic: topics.alertsTopic,
      messages: alerts.map((alert) => ({ key: alert.key, value: renderAlertJson(alert) })),
    },
    {
      topic: topics.alertsOcsfTopic,
      messages: alerts.map((alert) => ({ key: alert.key, value: renderAlertOcsf(alert) })),
    },
  ];
}
