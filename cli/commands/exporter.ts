/**
 * `exporter`: a member of the exporter group. Reads export requests from the
 * requests topic, renders them into the archive store under the exports
 * prefix and publishes each result on the results topic, until SIGTERM/SIGINT.
 */
import { ExporterMetrics } from '../../consumers/exporter/exporter-metrics.js';
import { metricsFromSettings } from '../metrics-server.js';
import { runMemberUntil, untilSignal } from '../signals.js';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { readSetting } from '../../common/settings.js';
import { ExporterMember } from '../../consumers/exporter/exporter-member.js';
import { checkTopics, createKafka } from '../../kafka/client.js';
import { recordAccessOnce, requestAccessInfo } from '../access.js';
import { parseOptions } from '../args.js';
import { cliSettings, effectiveEnv, requireKafka } from '../config.js';
import { verifyKey } from '../keys.js';
import { EXPORTER_SETTINGS } from '../settings.js';
import { archiveStore } from '../store.js';
import { EXPORTER_COMMAND } from '../command-specs.js';

export async function exporterCommand(args: string[], logger: Logger): Promise<number> {
  const o = parseOptions(args, EXPORTER_COMMAND.options);
  // a signal during the start is a clean stop too, once the member has started
  const { signal, dispose } = untilSignal();
  try {
    return await runMember(o.config, signal, logger);
  } finally {
    dispose();
  }
}

async function runMember(
  config: string | undefined,
  signal: AbortSignal,
  logger: Logger,
): Promise<number> {
  const env = effectiveEnv(config);
  const settings = cliSettings(env);
  const kafkaSettings = requireKafka(settings);
  const e = EXPORTER_SETTINGS;
  const requestsTopic = settings.topics.exportRequestsTopic;
  const groupId = readSetting(env, e.groupId);
  await checkTopics(kafkaSettings, logger, [requestsTopic], groupId);
  const endpoint = await metricsFromSettings(env, logger);
  const member = new ExporterMember({
    kafka: createKafka(kafkaSettings, logger),
    store: archiveStore(settings),
    archivePrefix: settings.prefix,
    exportsPrefix: settings.exportsPrefix,
    partBytes: readSetting(env, e.partBytes),
    verifyKey: settings.verifyKeyFile === undefined ? undefined : verifyKey(settings),
    graceMs: settings.verifyGraceMs,
    requestsTopic,
    resultsTopic: settings.topics.exportResultsTopic,
    groupId,
    transactionalIdPrefix: readSetting(env, e.transactionalIdPrefix),
    sessionTimeoutMs: readSetting(env, e.sessionTimeoutMs),
    logger: logger.child({ member: `${hostname()}-${process.pid}` }),
    // who read the audit data: recorded before the result is published, again (same id) after a restart
    onExported: async (request, result) => {
      await recordAccessOnce(settings, logger, requestAccessInfo(request, result));
    },
    metrics: endpoint && new ExporterMetrics({ registry: endpoint.registry }),
  });
  try {
    await runMemberUntil(member, signal);
  } finally {
    await endpoint?.close();
  }
  const s = member.stats;
  process.stdout.write(
    `answered ${s.answered} export requests (${s.rendered} rendered, ${s.reused} reused, ${s.failed} failed, ${s.skipped} skipped)\n`,
  );
  return 0;
}
