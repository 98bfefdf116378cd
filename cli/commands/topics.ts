import type { Logger } from 'pino';
import { createKafka } from '../../kafka/client.js';
import { ensureTopics } from '../../kafka/topics.js';
import { parseOptions, UsageError } from '../args.js';
import { cliSettings, effectiveEnv, requireKafka } from '../config.js';

/** Exit code when an existing topic differs from the desired settings. */
export const DRIFT_EXIT_CODE = 3;

export async function topicsCommand(args: string[], logger: Logger): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'ensure')
    throw new UsageError(
      `unknown topics action "${action ?? ''}" (try: audit-trail topics ensure)`,
    );
  const o = parseOptions(rest, { config: { type: 'string' } });
  const settings = cliSettings(effectiveEnv(o.config));
  const admin = createKafka(requireKafka(settings), logger).admin();
  await admin.connect();
  try {
    const report = await ensureTopics(admin, settings.topics);
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
  } finally {
    await admin.disconnect();
  }
}
