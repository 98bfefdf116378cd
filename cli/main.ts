#!/usr/bin/env node
/**
 * The `audit-trail` command. User mistakes print one line and exit 2; failures
 * of the pipeline print one line (with the error code) and exit 1. Stack traces
 * appear only with AUDIT_LOG_LEVEL=debug.
 */
import { readFileSync } from 'node:fs';
import { isAuditError } from '../common/errors.js';
import { UsageError } from './args.js';
import { COMMANDS } from './commands.js';
import { commandHelp, mainHelp, settingsHelp } from './help.js';

const MAIN_HELP = mainHelp(Object.values(COMMANDS).map((command) => command.spec));

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
    if (topic === 'settings')
      process.stdout.write(settingsHelp((await import('./settings.js')).SETTING_SECTIONS));
    else if (topic !== undefined && isCommand(topic))
      process.stdout.write(commandHelp(COMMANDS[topic].spec));
    else process.stdout.write(MAIN_HELP);
    return 0;
  }
  if (!isCommand(name)) throw new UsageError(`unknown command "${name}" (see audit-trail --help)`);
  const command = COMMANDS[name];
  if (rest.includes('-h') || rest.includes('--help')) {
    process.stdout.write(commandHelp(command.spec));
    return 0;
  }
  // loaded only for a command that runs: the help needs neither the logger nor every stage's settings
  const [{ cliLogger, resolveLogFormat }, { readSetting }, { PIPELINE_SETTINGS }, run] =
    await Promise.all([
      import('../common/logger.js'),
      import('../common/settings.js'),
      import('./settings.js'),
      command.load(),
    ]);
  const logger = cliLogger(
    readSetting(process.env, PIPELINE_SETTINGS.logLevel),
    undefined,
    resolveLogFormat(readSetting(process.env, PIPELINE_SETTINGS.logFormat)),
  );
  return run(rest, logger);
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
