/**
 * The commands of `audit-trail`: each one's declaration (options, help) and
 * how to load what runs it. A command's code is imported only when it runs,
 * so that `--help`, `emit` or `produce` do not load what `archive` or
 * `export` need (the AWS SDK, the consumers).
 */
import type { Logger } from 'pino';
import type { CommandSpec } from './args.js';
import {
  ARCHIVE_COMMAND,
  DEMO_COMMAND,
  EMIT_COMMAND,
  EXPORT_COMMAND,
  EXPORTER_COMMAND,
  KEYS_COMMAND,
  MONITOR_COMMAND,
  PRODUCE_COMMAND,
  SERVE_COMMAND,
  SIEM_FEED_COMMAND,
  TOKENS_COMMAND,
  TOPICS_COMMAND,
  VERIFY_COMMAND,
} from './command-specs.js';

export type CommandRun = (args: string[], logger: Logger) => Promise<number>;

export interface Command {
  spec: CommandSpec;
  load: () => Promise<CommandRun>;
}

export const COMMANDS = {
  demo: { spec: DEMO_COMMAND, load: async () => (await import('./commands/demo.js')).demoCommand },
  emit: { spec: EMIT_COMMAND, load: async () => (await import('./commands/emit.js')).emitCommand },
  produce: {
    spec: PRODUCE_COMMAND,
    load: async () => (await import('./commands/produce.js')).produceCommand,
  },
  archive: {
    spec: ARCHIVE_COMMAND,
    load: async () => (await import('./commands/archive.js')).archiveCommand,
  },
  export: {
    spec: EXPORT_COMMAND,
    load: async () => (await import('./commands/export.js')).exportCommand,
  },
  exporter: {
    spec: EXPORTER_COMMAND,
    load: async () => (await import('./commands/exporter.js')).exporterCommand,
  },
  'siem-feed': {
    spec: SIEM_FEED_COMMAND,
    load: async () => (await import('./commands/siem-feed.js')).siemFeedCommand,
  },
  monitor: {
    spec: MONITOR_COMMAND,
    load: async () => (await import('./commands/monitor.js')).monitorCommand,
  },
  topics: {
    spec: TOPICS_COMMAND,
    load: async () => (await import('./commands/topics.js')).topicsCommand,
  },
  keys: { spec: KEYS_COMMAND, load: async () => (await import('./commands/keys.js')).keysCommand },
  verify: {
    spec: VERIFY_COMMAND,
    load: async () => (await import('./commands/verify.js')).verifyCommand,
  },
  serve: {
    spec: SERVE_COMMAND,
    load: async () => (await import('./commands/serve.js')).serveCommand,
  },
  tokens: {
    spec: TOKENS_COMMAND,
    load: async () => (await import('./commands/tokens.js')).tokensCommand,
  },
} as const satisfies Record<string, Command>;
