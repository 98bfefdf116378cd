/**
 * `siem-feed --format ocsf|ecs|cef`: a member of the SIEM feed group of that
 * format. Republishes every event of the events topic, rendered in the format,
 * on `<events topic>.<format>` in Kafka transactions, until SIGTERM/SIGINT.
 */
import { SiemFeedMetrics } from '../../consumers/siem-feed/siem-feed-metrics.js';
import { metricsFromSettings, type MetricsEndpoint } from '../metrics-server.js';
import { runMemberUntil, untilSignal } from '../signals.js';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { readSetting } from '../../common/settings.js';
import {
  SiemFeedMember,
  siemFeedGroup,
  siemFeedTopic,
} from '../../consumers/siem-feed/siem-feed-member.js';
import { checkTopics, createKafka } from '../../kafka/client.js';
import { isSiemFormat, SIEM_FORMATS } from '../../schemas/siem/index.js';
import { parseOptions, UsageError } from '../args.js';
import { cliSettings, effectiveEnv, requireKafka } from '../config.js';
import { SIEM_FEED_SETTINGS } from '../settings.js';
import { SIEM_FEED_COMMAND } from '../command-specs.js';

export async function siemFeedCommand(args: string[], logger: Logger): Promise<number> {
  const o = parseOptions(args, SIEM_FEED_COMMAND.options);
  const format = o.format;
  if (format === undefined)
    throw new UsageError(`--format is required: ${SIEM_FORMATS.join(', ')}`);
  if (!isSiemFormat(format))
    throw new UsageError(`--format must be ${SIEM_FORMATS.join(', ')}, got "${format}"`);
  // a signal during the start is a clean stop too, once the member has started
  const { signal, dispose } = untilSignal();
  let endpoint: MetricsEndpoint | undefined;
  try {
    const env = effectiveEnv(o.config);
    const settings = cliSettings(env);
    const kafkaSettings = requireKafka(settings);
    const s = SIEM_FEED_SETTINGS;
    const eventsTopic = settings.topics.eventsTopic;
    const groupId = readSetting(env, s.groupId) ?? siemFeedGroup(format);
    const outputTopic = siemFeedTopic(eventsTopic, format);
    await checkTopics(kafkaSettings, logger, [eventsTopic, outputTopic], groupId);
    endpoint = await metricsFromSettings(env, logger);
    const member = new SiemFeedMember({
      kafka: createKafka(kafkaSettings, logger),
      format,
      eventsTopic,
      outputTopic,
      dlqTopic: settings.topics.dlqTopic,
      groupId,
      transactionalIdPrefix: readSetting(env, s.transactionalIdPrefix),
      batchEvents: readSetting(env, s.batchEvents),
      sessionTimeoutMs: readSetting(env, s.sessionTimeoutMs),
      logger: logger.child({ member: `${hostname()}-${process.pid}` }),
      metrics: endpoint && new SiemFeedMetrics({ registry: endpoint.registry }),
    });
    await runMemberUntil(member, signal);
    const st = member.stats;
    process.stdout.write(
      `published ${st.published} events on ${outputTopic} in ${st.transactions} transactions (${st.deadLettered} to the dead-letter topic, ${st.skipped} skipped as published before)\n`,
    );
    return 0;
  } finally {
    dispose();
    await endpoint?.close();
  }
}
