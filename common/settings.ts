/**
 * Settings read from the environment, declared as rows: a name, a parser, a
 * default, whether the value is secret, and one line of documentation. The
 * owning module declares its rows next to the code that uses them; the command
 * line merges them into one table that drives reading, the allow-list of known
 * names, the help text and docs/configuration.md. Pure: no I/O.
 */
import { ConfigError } from './errors.js';

/** Environment variables, or the `NAME=value` lines of a config file over them. */
export type Env = Readonly<Record<string, string | undefined>>;

export interface SettingParser<T> {
  /** What a value must be, as errors and docs say it: "a positive whole number". */
  readonly expects: string;
  /** The value, or undefined when `raw` is not one. */
  parse(raw: string): T | undefined;
  /** An empty value reads as unset (numbers, flags); otherwise it is refused. */
  readonly emptyIsUnset?: boolean;
}

export interface Setting<T> {
  readonly name: string;
  readonly parser: SettingParser<T>;
  /** The value when the setting is unset; taken from the owning component's defaults object. */
  readonly default?: T;
  /** How docs show the default when it is not a fixed value ("the host name"). */
  readonly defaultDoc?: string;
  /** Never echoed in an error, help or docs. */
  readonly secret?: boolean;
  /** One line for the help text and docs/configuration.md. */
  readonly doc: string;
}

/** Declares one row; a function so that `T`, and whether a default exists, are inferred. */
export function setting<T>(row: Setting<T> & { default: T }): Setting<T> & { default: T };
export function setting<T>(row: Setting<T>): Setting<T>;
export function setting<T>(row: Setting<T>): Setting<T> {
  return row;
}

/** Reads one setting: its default when unset, else the parsed value or a ConfigError naming it. */
export function readSetting<T>(env: Env, row: Setting<T> & { default: T }): T;
export function readSetting<T>(env: Env, row: Setting<T>): T | undefined;
export function readSetting<T>(env: Env, row: Setting<T>): T | undefined {
  const raw = env[row.name];
  if (raw === undefined || (raw === '' && row.parser.emptyIsUnset === true)) return row.default;
  if (raw.trim() === '') throw new ConfigError(row.name, 'is set but empty');
  const value = row.parser.parse(raw);
  if (value === undefined) {
    // a secret is never echoed: the name and what it must be are enough to fix it
    const shown = row.secret === true ? '(the value is not shown)' : `got "${raw}"`;
    throw new ConfigError(row.name, `must be ${row.parser.expects}, ${shown}`);
  }
  return value;
}

/** Whether a row says something at all: set to a non-empty value. */
export function isSet(env: Env, row: Setting<unknown>): boolean {
  return (env[row.name] ?? '') !== '';
}

// --- parsers ---------------------------------------------------------------

export const text: SettingParser<string> = { expects: 'a non-empty text', parse: (raw) => raw };

/** A file name; the file is read (and its absence reported) by the code that needs it. */
export const filePath: SettingParser<string> = {
  expects: 'a path',
  parse: (raw) => raw,
};

export function oneOf<const V extends string>(
  values: readonly V[],
  options: { ignoreCase?: boolean; emptyIsUnset?: boolean } = {},
): SettingParser<V> {
  return {
    expects: `${values.slice(0, -1).join(', ')}${values.length > 1 ? ' or ' : ''}${values.at(-1) ?? ''}`,
    emptyIsUnset: options.emptyIsUnset,
    parse: (raw) => {
      const value = options.ignoreCase === true ? raw.toLowerCase() : raw;
      return (values as readonly string[]).includes(value) ? (value as V) : undefined;
    },
  };
}

/** A whole number of at least `min`, described as `expects`. */
export function wholeNumber(min: number, expects: string): SettingParser<number> {
  return {
    expects,
    emptyIsUnset: true,
    parse: (raw) => {
      const n = /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
      return Number.isSafeInteger(n) && n >= min ? n : undefined;
    },
  };
}

export const positiveInteger = wholeNumber(1, 'a positive whole number');
export const nonNegativeInteger = wholeNumber(0, 'a whole number, 0 or more');

export function milliseconds(min: number): SettingParser<number> {
  return wholeNumber(min, `a whole number of milliseconds, at least ${min}`);
}

export const flag: SettingParser<boolean> = {
  expects: 'true or false',
  emptyIsUnset: true,
  parse: (raw) =>
    /^(1|true|yes|on)$/i.test(raw) ? true : /^(0|false|no|off)$/i.test(raw) ? false : undefined,
};

/** A value checked by a pattern, e.g. a topic name or an http(s) URL. */
export function matching(pattern: RegExp, expects: string): SettingParser<string> {
  return { expects, parse: (raw) => (pattern.test(raw) ? raw : undefined) };
}

/** A comma-separated list whose every item satisfies `item`; at least one item. */
export function listOf<T>(item: SettingParser<T>): SettingParser<T[]> {
  return {
    expects: `a comma-separated list of ${item.expects}`,
    parse: (raw) => {
      const items = raw
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== '')
        .map((part) => item.parse(part));
      if (items.length === 0 || items.some((value) => value === undefined)) return undefined;
      return items as T[];
    },
  };
}
