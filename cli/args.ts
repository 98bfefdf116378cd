/**
 * What a command accepts, declared once: its options with their value kind and
 * one line of doc. parseArgs reads the same declaration that the help text is
 * rendered from (cli/help.ts). Each mistake is a UsageError naming the option.
 */
import { parseArgs } from 'node:util';
import { positiveInteger } from '../common/settings.js';

/** A mistake in how the command was called: printed as one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly default?: boolean;
  /** How help names the value: FILE, N, ISO. */
  readonly value?: string;
  /** The value when the option is not given, as help shows it. */
  readonly fallback?: number | string;
  /** Shown without brackets in the usage line; the command checks it. */
  readonly required?: boolean;
  readonly doc: string;
}

export interface CommandSpec {
  readonly name: string;
  /** The one action word that follows the name (`keys generate`), if the command has one. */
  readonly action?: string;
  /** One line for the list of commands. */
  readonly summary: string;
  /** What the command does, in a paragraph of the help text. */
  readonly description: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
}

/** Settings file under the environment; shared by every command that reads settings. */
export const CONFIG_OPTION = {
  type: 'string',
  value: 'FILE',
  doc: 'settings file of NAME=value lines, under the environment (as AUDIT_CONFIG)',
} as const satisfies OptionSpec;

export function parseOptions<T extends Readonly<Record<string, OptionSpec>>>(
  args: string[],
  options: T,
): ReturnType<
  typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: false }>
>['values'] {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    // node:util's refusals of the arguments (ERR_PARSE_ARGS_*) are the user's; anything else is ours
    if (!String((error as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS_')) throw error;
    throw new UsageError((error as Error).message.replace(/\s*\n\s*/g, ' '));
  }
}

export function positiveInt(option: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = /^\d+$/.test(value) ? positiveInteger.parse(value) : undefined;
  if (n === undefined)
    throw new UsageError(`--${option} must be ${positiveInteger.expects}, got "${value}"`);
  return n;
}

export function isoTime(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const time = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time))
    throw new UsageError(
      `--${option} must be an ISO-8601 time such as 2026-01-31T12:00:00Z, got "${value}"`,
    );
  return time;
}
