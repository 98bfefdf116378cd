/** The commands of `audit-trail`: each one's declaration (options, help) and what runs it. */
import { ARCHIVE_COMMAND, archiveCommand } from './commands/archive.js';
import { DEMO_COMMAND, demoCommand } from './commands/demo.js';
import { EMIT_COMMAND, emitCommand } from './commands/emit.js';
import { EXPORT_COMMAND, exportCommand } from './commands/export.js';
import { EXPORTER_COMMAND, exporterCommand } from './commands/exporter.js';
import { PRODUCE_COMMAND, produceCommand } from './commands/produce.js';
import { MONITOR_COMMAND, monitorCommand } from './commands/monitor.js';
import { SIEM_FEED_COMMAND, siemFeedCommand } from './commands/siem-feed.js';
import { TOPICS_COMMAND, topicsCommand } from './commands/topics.js';
import { KEYS_COMMAND, keysCommand } from './commands/keys.js';
import { VERIFY_COMMAND, verifyCommand } from './commands/verify.js';
import { SERVE_COMMAND, serveCommand } from './commands/serve.js';
import { TOKENS_COMMAND, tokensCommand } from './commands/tokens.js';

export const COMMANDS = {
  demo: { spec: DEMO_COMMAND, run: demoCommand },
  emit: { spec: EMIT_COMMAND, run: emitCommand },
  produce: { spec: PRODUCE_COMMAND, run: produceCommand },
  archive: { spec: ARCHIVE_COMMAND, run: archiveCommand },
  export: { spec: EXPORT_COMMAND, run: exportCommand },
  exporter: { spec: EXPORTER_COMMAND, run: exporterCommand },
  'siem-feed': { spec: SIEM_FEED_COMMAND, run: siemFeedCommand },
  monitor: { spec: MONITOR_COMMAND, run: monitorCommand },
  topics: { spec: TOPICS_COMMAND, run: topicsCommand },
  keys: { spec: KEYS_COMMAND, run: keysCommand },
  verify: { spec: VERIFY_COMMAND, run: verifyCommand },
  serve: { spec: SERVE_COMMAND, run: serveCommand },
  tokens: { spec: TOKENS_COMMAND, run: tokensCommand },
} as const;
