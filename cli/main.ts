#!/usr/bin/env node
/**
 * The `audit-trail` command. User mistakes print one line and exit 2; failures
 * of the pipeline print one line (with the error code) and exit 1. Stack traces
 * appear only with AUDIT_LOG_LEVEL=debug.
 */
import { readFileSync } from 'node:fs';
import { isAuditError } from '../common/errors.js';
import { cliLogger } from '../common/logger.js';
import { UsageError } from './args.js';
import { archiveCommand } from './commands/archive.js';
import { demoCommand } from './commands/demo.js';
import { emitCommand } from './commands/emit.js';
import { exportCommand } from './commands/export.js';
import { produceCommand } from './commands/produce.js';
import { topicsCommand } from './commands/topics.js';
import { keysCommand } from './commands/keys.js';
import { verifyCommand } from './commands/verify.js';
import {
  ARCHIVE_HELP,
  DEMO_HELP,
  EMIT_HELP,
  EXPORT_HELP,
  MAIN_HELP,
  PRODUCE_HELP,
  TOPICS_HELP,
  KEYS_HELP,
  VERIFY_HELP,
} from './usage.js';

const COMMANDS = {
  demo: { help: DEMO_HELP, run: demoCommand },
  export: { help: EXPORT_HELP, run: exportCommand },
  archive: { help: ARCHIVE_HELP, run: archiveCommand },
  emit: { help: EMIT_HELP, run: emitCommand },
  produce: { help: PRODUCE_HELP, run: produceCommand },
  topics: { help: TOPICS_HELP, run: topicsCommand },
  keys: { help: KEYS_HELP, run: keysCommand },
  verify: { help: VERIFY_HELP, run: verifyCommand },
} as const;

function isCommand(name: string): name is keyof typeof COMMANDS {
  return Object.hasOwn(COMMANDS, name);
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help') {
    process.stdout.write(MAIN_HELP);
    return name === undefined ? 2 : 0;
  }
  if (name === '-v' || name === '--version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (name === 'help') {
    const topic = rest[0];
    process.stdout.write(
      topic !== undefined && isCommand(topic) ? COMMANDS[topic].help : MAIN_HELP,
    );
    return 0;
  }
  if (!isCommand(name)) throw new UsageError(`unknown command "${name}" (see audit-trail --help)`);
  const command = COMMANDS[name];
  if (rest.includes('-h') || rest.includes('--help')) {
    process.stdout.write(command.help);
    return 0;
  }
  const logger = cliLogger();
  return command.run(rest, logger);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`audit-trail: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    if (isAuditError(error)) {
      process.stderr.write(`audit-trail: ${error.code}: ${error.message}\n`);
    } else {
      process.stderr.write(
        `audit-trail: unexpected error: ${(error as Error)?.message ?? String(error)}\n`,
      );
    }
    if (process.env['AUDIT_LOG_LEVEL'] === 'debug')
      process.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
    process.exitCode = 1;
  },
);
