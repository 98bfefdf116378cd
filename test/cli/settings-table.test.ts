/**
 * The settings table: its parsers, defaults taken from the components, the
 * allow-list of a config file, and the help and docs rendered from it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  flag,
  listOf,
  milliseconds,
  nonNegativeInteger,
  oneOf,
  positiveInteger,
  readSetting,
  setting,
  type SettingParser,
  text,
} from '../../common/settings.js';
import { BATCH_DEFAULTS } from '../../consumers/archiver/batch-policy.js';
import { S3_STORE_DEFAULTS } from '../../consumers/object-store/s3-store.js';
import { KAFKA_DEFAULTS, KAFKA_SETTINGS } from '../../kafka/settings.js';
import { TOPIC_DEFAULTS } from '../../kafka/topics.js';
import { COMMANDS } from '../../cli/commands.js';
import { cliSettings, s3Settings } from '../../cli/config.js';
import { commandHelp, mainHelp, settingsHelp } from '../../cli/help.js';
import { withSettingsTables } from '../../cli/settings-doc.js';
import {
  ARCHIVER_DEFAULTS,
  CLI_DEFAULTS,
  isAllowedSetting,
  KNOWN_SETTINGS,
  SETTING_SECTIONS,
} from '../../cli/settings.js';

const parsers: [string, SettingParser<unknown>, string, unknown][] = [
  ['positive integer', positiveInteger, '42', 42],
  ['positive integer', positiveInteger, '0', undefined],
  ['positive integer', positiveInteger, '-3', undefined],
  ['positive integer', positiveInteger, '1.5', undefined],
  ['positive integer', positiveInteger, '1e3', undefined],
  ['positive integer', positiveInteger, '9007199254740993', undefined],
  ['non-negative integer', nonNegativeInteger, '0', 0],
  ['non-negative integer', nonNegativeInteger, '-1', undefined],
  ['milliseconds', milliseconds(1000), '1000', 1000],
  ['milliseconds', milliseconds(1000), '999', undefined],
  ['milliseconds', milliseconds(1000), 'soon', undefined],
  ['flag', flag, 'yes', true],
  ['flag', flag, 'OFF', false],
  ['flag', flag, 'maybe', undefined],
  ['enum', oneOf(['a', 'b']), 'b', 'b'],
  ['enum', oneOf(['a', 'b']), 'B', undefined],
  ['enum ignoring case', oneOf(['a', 'b'], { ignoreCase: true }), 'B', 'b'],
  ['list', listOf(positiveInteger), '1, 2,3', [1, 2, 3]],
  ['list', listOf(positiveInteger), '1,x', undefined],
  ['list', listOf(positiveInteger), ',', undefined],
];
for (const [kind, parser, raw, expected] of parsers) {
  test(`parser ${kind}: "${raw}" reads as ${JSON.stringify(expected)}`, () => {
    assert.deepEqual(parser.parse(raw), expected);
  });
}

test('a setting reads its default when unset, and an error names it', () => {
  const row = setting({ name: 'X_COUNT', parser: positiveInteger, default: 7, doc: 'count' });
  assert.equal(readSetting({}, row), 7);
  assert.equal(readSetting({ X_COUNT: '' }, row), 7, 'an empty number reads as unset');
  assert.equal(readSetting({ X_COUNT: '9' }, row), 9);
  assert.throws(() => readSetting({ X_COUNT: 'many' }, row), {
    field: 'X_COUNT',
    message: 'X_COUNT: must be a positive whole number, got "many"',
  });
  const name = setting({ name: 'X_NAME', parser: text, doc: 'name' });
  assert.equal(readSetting({}, name), undefined);
  assert.throws(() => readSetting({ X_NAME: ' ' }, name), { message: 'X_NAME: is set but empty' });
});

test('a secret setting is never echoed in its error', () => {
  const row = setting({ name: 'X_PIN', parser: positiveInteger, secret: true, doc: 'pin' });
  assert.throws(
    () => readSetting({ X_PIN: 's3cr3t' }, row),
    (error: Error) => /X_PIN/.test(error.message) && !error.message.includes('s3cr3t'),
  );
});

test('the defaults are the components’ own', () => {
  const settings = cliSettings({});
  assert.deepEqual(settings.batch, BATCH_DEFAULTS);
  assert.equal(settings.spoolDir, CLI_DEFAULTS.spoolDir);
  assert.equal(settings.archiveDir, CLI_DEFAULTS.archiveDir);
  assert.equal(settings.digestIntervalMs, ARCHIVER_DEFAULTS.digestIntervalMs);
  assert.equal(settings.verifyGraceMs, 2 * ARCHIVER_DEFAULTS.digestIntervalMs + 600_000);
  assert.equal(settings.archiverSessionTimeoutMs, ARCHIVER_DEFAULTS.sessionTimeoutMs);
  assert.equal(settings.topics.eventsTopic, TOPIC_DEFAULTS.eventsTopic);
  assert.equal(settings.topics.dlqTopic, TOPIC_DEFAULTS.dlqTopic);
  assert.equal(settings.topics.retentionMs, TOPIC_DEFAULTS.retentionMs);
  assert.equal(KAFKA_SETTINGS.clientId.default, KAFKA_DEFAULTS.clientId);
  assert.equal(s3Settings({ S3_BUCKET: 'b' }).region, S3_STORE_DEFAULTS.region);
  assert.equal(cliSettings({ AUDIT_DIGEST_INTERVAL_MS: '60000' }).verifyGraceMs, 720_000);
});

test('S3 settings that go together are checked together', () => {
  assert.throws(() => s3Settings({}), { field: 'S3_BUCKET' });
  assert.throws(() => s3Settings({ S3_BUCKET: 'b', AWS_ACCESS_KEY_ID: 'k' }), {
    field: 'AWS_SECRET_ACCESS_KEY',
  });
  assert.throws(() => s3Settings({ S3_BUCKET: 'b', S3_OBJECT_LOCK_MODE: 'COMPLIANCE' }), {
    field: 'S3_OBJECT_LOCK_DAYS',
  });
  assert.throws(() => s3Settings({ S3_BUCKET: 'b', S3_ENDPOINT: 'localhost:9000' }), {
    field: 'S3_ENDPOINT',
  });
  assert.throws(
    () => s3Settings({ S3_BUCKET: 'b', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: ' ' }),
    { field: 'AWS_SECRET_ACCESS_KEY' },
  );
});

test('every setting is declared once, and the allow-list is the table', () => {
  const names = SETTING_SECTIONS.flatMap((section) => section.rows.map((row) => row.name));
  assert.equal(new Set(names).size, names.length, 'no name twice');
  assert.equal(KNOWN_SETTINGS.size, names.length);
  for (const name of names) assert.ok(isAllowedSetting(name), name);
  assert.ok(!isAllowedSetting('AUDIT_TRANSPRT'));
  assert.ok(!isAllowedSetting('HOME'));
  assert.ok(isAllowedSetting('AWS_PROFILE'), 'server clients read more than the table names');
});

test('docs/configuration.md holds the tables the settings table renders (npm run docs:settings)', () => {
  const docs = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  assert.equal(docs, withSettingsTables(docs));
  for (const name of KNOWN_SETTINGS) assert.ok(docs.includes(`\`${name}\``), name);
});

test('the help of each command names every option it accepts', () => {
  const main = mainHelp(Object.values(COMMANDS).map((command) => command.spec));
  for (const { spec } of Object.values(COMMANDS)) {
    assert.ok(main.includes(`  ${spec.name} `), `main help lists ${spec.name}`);
    const help = commandHelp(spec);
    assert.match(help, new RegExp(`^Usage: audit-trail ${spec.name}`));
    for (const option of Object.keys(spec.options)) {
      assert.ok(help.includes(`--${option}`), `${spec.name} --help names --${option}`);
    }
  }
});

test('the settings help names every setting', () => {
  const help = settingsHelp(SETTING_SECTIONS);
  for (const name of KNOWN_SETTINGS) assert.ok(help.includes(name), name);
});
