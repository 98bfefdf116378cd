/**
 * `monitor [--rules FILE]`: a member of the monitor group. Routes every event
 * to the keyed topic and evaluates the detection rules there; alerts go to the
 * alerts topics and to the log, until SIGTERM/SIGINT.
 */
import { MonitorMetrics } from '../../consumers/monitor/monitor-metrics.js';
import { metricsFromSettings, type MetricsEndpoint } from '../metrics-server.js';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { readSetting } from '../../common/settings.js';
import { MonitorMember } from '../../consumers/monitor/monitor-member.js';
import { DEFAULT_MONITOR_RULES, loadMonitorRules } from '../../consumers/monitor/rules.js';
import { checkTopics, createKafka } from '../../kafka/client.js';
import { alertsOcsfTopic, monitorKeyedTopic } from '../../kafka/topics.js';
import { parseOptions } from '../args.js';
import { cliSettings, effectiveEnv, requireKafka } from '../config.js';
import { MONITOR_SETTINGS } from '../settings.js';
import { runMemberUntil, untilSignal } from '../signals.js';
import { MONITOR_COMMAND } from '../command-specs.js';

export async function monitorCommand(args: string[], logger: Logger): Promise<number> {
  const o = parseOptions(args, MONITOR_COMMAND.options);
  // a signal during the start is a clean stop too, once the member has started
  const { signal, dispose } = untilSignal();
  let endpoint: MetricsEndpoint | undefined;
  try {
    const env = effectiveEnv(o.config);
    const settings = cliSettings(env);
    const kafkaSettings = requireKafka(settings);
    const s = MONITOR_SETTINGS;
    const rulesFile = o.rules ?? readSetting(env, s.rules);
    const rules =
      rulesFile === undefined ? DEFAULT_MONITOR_RULES : await loadMonitorRules(rulesFile);
    const { eventsTopic, alertsTopic } = settings.topics;
    const keyedTopic = monitorKeyedTopic(eventsTopic);
    const ocsfTopic = alertsOcsfTopic(alertsTopic);
    const groupId = readSetting(env, s.groupId);
    const topics = [eventsTopic, keyedTopic, alertsTopic, ocsfTopic];
    await checkTopics(kafkaSettings, logger, topics, groupId);
    endpoint = await metricsFromSettings(env, logger);
    const member = new MonitorMember({
      kafka: createKafka(kafkaSettings, logger),
      rules,
      eventsTopic,
      keyedTopic,
      dlqTopic: settings.topics.dlqTopic,
      alertsTopic,
      alertsOcsfTopic: ocsfTopic,
      groupId,
      transactionalIdPrefix: readSetting(env, s.transactionalIdPrefix),
      batchEvents: readSetting(env, s.batchEvents),
      sessionTimeoutMs: readSetting(env, s.sessionTimeoutMs),
      logger: logger.child({ member: `${hostname()}-${process.pid}` }),
      metrics: endpoint && new MonitorMetrics({ registry: endpoint.registry }),
    });
    await runMemberUntil(member, signal);
    const st = member.stats;
    process.stdout.write(
      `routed ${st.routed} records to ${keyedTopic} (${st.deadLettered} to the dead-letter topic); evaluated ${st.evaluated} (${st.replayed} replayed to rebuild the rule state); published ${st.alerts} alerts on ${alertsTopic} and ${ocsfTopic}\n`,
    );
    return 0;
  } finally {
    dispose();
    await endpoint?.close();
  }
}
