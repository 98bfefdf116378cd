import type { Logger } from 'pino';
import { RETRY_POLICIES } from '../../common/retry.js';
import { createKafka, withAdmin } from '../../kafka/client.js';
import { ConfigError } from '../../common/errors.js';
import { ensureTopics, TOPIC_SETTINGS } from '../../kafka/topics.js';
import { isSiemFormat, SIEM_FORMATS } from '../../schemas/siem/index.js';
import { parseOptions, UsageError } from '../args.js';
import { cliSettings, effectiveEnv, requireKafka } from '../config.js';
import { TOPICS_COMMAND } from '../command-specs.js';

/** Exit code when an existing topic differs from the desired settings. */
export const DRIFT_EXIT_CODE = 3;

export async function topicsCommand(args: string[], logger: Logger): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'ensure')
    throw new UsageError(
      `unknown topics action "${action ?? ''}" (try: audit-trail topics ensure)`,
    );
  const o = parseOptions(rest, TOPICS_COMMAND.options);
  const settings = cliSettings(effectiveEnv(o.config));
  const unknown = settings.topics.siemFeedFormats.filter((format) => !isSiemFormat(format));
  if (unknown.length > 0)
    throw new ConfigError(
      TOPIC_SETTINGS.siemFeedFormats.name,
      `${unknown.join(', ')} is not a SIEM format (${SIEM_FORMATS.join(', ')})`,
    );
  const kafka = createKafka(requireKafka(settings), logger, { retry: RETRY_POLICIES.kafkaClient });
  const report = await withAdmin(kafka, { operation: 'ensure topics' }, (admin) =>
    ensureTopics(admin, settings.topics),
  );
  for (const topic of report.created) process.stdout.write(`created  ${topic}\n`);
  for (const topic of report.unchanged) process.stdout.write(`ok       ${topic}\n`);
  for (const { topic, problems } of report.drift) {
    for (const problem of problems) process.stdout.write(`drift    ${topic}: ${problem}\n`);
  }
  if (report.drift.length > 0) {
    process.stdout.write(
      'existing topics were left as they are; change them with kafka-configs / kafka-topics if intended\n',
    );
    return DRIFT_EXIT_CODE;
  }
  return 0;
}
