/**
 * Help texts, rendered from the declarations they describe: each command's
 * options (CommandSpec) and the settings table (cli/settings.ts). Pure.
 */
import type { Setting } from '../common/settings.js';
import type { CommandSpec, OptionSpec } from './args.js';
import type { SettingSection } from './settings.js';

const WIDTH = 88;

/** Words of `text` in lines of at most `width` characters, each after `indent`. */
function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines.map((l, i) => (i === 0 ? l : indent + l));
}

/** `--name VALUE` as the usage line and the option list show it. */
function flagOf(name: string, option: OptionSpec): string {
  return option.type === 'boolean' ? `--${name}` : `--${name} ${option.value ?? 'VALUE'}`;
}

/** Two columns: terms padded to one width, then text wrapped under itself. */
function columns(rows: [string, string][], indent = '  '): string[] {
  const termWidth = Math.max(...rows.map(([term]) => term.length)) + 2;
  const hanging = ' '.repeat(indent.length + termWidth);
  return rows.map(
    ([term, text]) => indent + term.padEnd(termWidth) + wrap(text, WIDTH, hanging).join('\n'),
  );
}

export function commandHelp(spec: CommandSpec): string {
  const words = Object.entries(spec.options).map(([name, option]) => {
    const flag = flagOf(name, option) + (option.multiple === true ? ' ...' : '');
    return option.required === true ? flag : `[${flag}]`;
  });
  const head = `Usage: audit-trail ${spec.name}${spec.action === undefined ? '' : ` ${spec.action}`}`;
  const usage: string[] = [];
  let line = head;
  for (const word of words) {
    if (line.length + 1 + word.length > WIDTH) {
      usage.push(line);
      line = ' '.repeat(head.length) + ' ' + word;
    } else line += ' ' + word;
  }
  usage.push(line);
  const options = columns([
    ...Object.entries(spec.options).map(([name, option]): [string, string] => [
      flagOf(name, option),
      option.fallback === undefined ? option.doc : `${option.doc} (default ${option.fallback})`,
    ]),
    ['-h, --help', 'show this help'],
  ]);
  const description = spec.description
    .split(/\n\s*\n/)
    .flatMap((paragraph) => ['', ...wrap(paragraph, WIDTH, '')]);
  return [...usage, ...description, '', 'Options:', ...options, ''].join('\n');
}

/** What help and docs show as the default of a setting. */
export function defaultOf(row: Setting<unknown>): string {
  if (row.defaultDoc !== undefined) return row.defaultDoc;
  const value = row.default;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string' || typeof value === 'boolean') return `\`${String(value)}\``;
  // a list or an object default is described by defaultDoc
  return 'none';
}

const plain = (text: string): string => text.replaceAll('`', '');

/** The settings table (SETTING_SECTIONS of cli/settings.ts, given by the caller: loading it loads every stage's defaults). */
export function settingsHelp(sections: readonly SettingSection[]): string {
  const lines = [
    'Settings: environment variables, or NAME=value lines in the file that --config FILE or',
    'AUDIT_CONFIG names (the environment wins). An unknown AUDIT_* name in the file is an error.',
  ];
  for (const section of sections) {
    lines.push('', `${section.title}:`);
    lines.push(
      ...columns(
        section.rows.map((row): [string, string] => [
          row.name,
          [
            plain(row.doc),
            row.defaultDoc === undefined && row.default === undefined
              ? ''
              : ` (default: ${plain(defaultOf(row))})`,
            row.secret === true ? '; secret, never shown' : '',
          ].join(''),
        ]),
      ),
    );
  }
  return [...lines, '', 'See docs/configuration.md.', ''].join('\n');
}

export function mainHelp(commands: readonly CommandSpec[]): string {
  return [
    'audit-trail: a tamper-evident audit trail of package-manager security operations',
    '',
    'Usage: audit-trail <command> [options]',
    '',
    'Commands:',
    ...columns(commands.map((c): [string, string] => [c.name, c.summary])),
    '',
    'Options:',
    ...columns([
      ['-h, --help', 'show help (also: audit-trail <command> --help)'],
      ['-v, --version', 'show the version'],
    ]),
    '',
    'Settings are environment variables or NAME=value lines of a file (--config FILE or',
    'AUDIT_CONFIG); every one is listed by: audit-trail help settings',
    '',
  ].join('\n');
}
