/**
 * The tokens file: its syntax, its modes, add/list/revoke, constant-time
 * matching by hash, and a running service that follows the file's changes.
 */
import assert from 'node:assert/strict';
import { chmod, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  addToken,
  hashToken,
  listTokens,
  parseTokens,
  revokeToken,
  TokensFile,
  tokenLine,
  TokenSet,
} from '../../../consumers/exporter/http/tokens.js';
import { LocalDirStore } from '../../../consumers/object-store/local-dir-store.js';
import { tempDir } from '../../helpers.js';
import { bearer, call, startService, TOKENS } from './http-fixtures.js';

const HEX = 'a'.repeat(64);

test('tokens file lines: accepted and refused, never echoing a line', () => {
  assert.deepEqual(
    parseTokens(
      `# comment\n\n  alice sha256:${HEX}  \r\nci.bot@host-1 sha256:${'0'.repeat(64)}\n`,
      'f',
    ).map((e) => e.name),
    ['alice', 'ci.bot@host-1'],
  );
  const refused: [string, RegExp][] = [
    ['plain-token-pasted-here-by-mistake', /line 1 is not/],
    [`alice ${HEX}`, /line 1 is not/],
    [`alice sha256:${HEX.slice(1)}`, /line 1 is not/],
    [`alice sha256:${HEX.toUpperCase()}`, /line 1 is not/],
    [`-alice sha256:${HEX}`, /line 1 is not/],
    [`alice sha256:${HEX} extra`, /line 1 is not/],
    [`alice sha256:${HEX}\nalice sha256:${HEX}`, /line 2: the name alice is given twice/],
  ];
  for (const [text, message] of refused) {
    assert.throws(
      () => parseTokens(text, 'f'),
      (error: Error & { code?: string; field?: string }) => {
        assert.equal(error.code, 'INVALID_OPTION');
        assert.equal(error.field, 'AUDIT_HTTP_TOKENS_FILE');
        assert.match(error.message, message);
        assert.ok(!error.message.includes('plain-token'), 'the line is not echoed');
        return true;
      },
    );
  }
});

test('a token set names the token that matches, and only a well-formed bearer header', () => {
  const set = new TokenSet(
    parseTokens(tokenLine('alice', 'secret-1') + tokenLine('bob', 'secret-2'), 'f'),
  );
  assert.equal(set.authenticate('Bearer secret-1'), 'alice');
  assert.equal(set.authenticate('bearer secret-2'), 'bob');
  for (const header of [
    undefined,
    '',
    'secret-1',
    'Bearer',
    'Bearer ',
    'Basic secret-1',
    'Bearer secret-1 x',
    'Bearer secret-3',
    'Bearer secret-1\u00e9',
  ])
    assert.equal(set.authenticate(header), undefined, String(header));
  // an empty token whose hash someone put in the file still needs a token in the header
  const empty = new TokenSet([{ name: 'empty', hash: hashToken('') }]);
  assert.equal(empty.authenticate('Bearer'), undefined);
  assert.equal(empty.authenticate('Bearer '), undefined);
});

test('tokens add creates the file 0600 whatever the umask, prints a fresh token and stores only its hash', async (t) => {
  const path = join(await tempDir(t), 'tokens');
  const old = process.umask(0);
  try {
    const token = await addToken(path, 'alice');
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    const text = await readFile(path, 'utf8');
    assert.ok(!text.includes(token));
    assert.equal(text, `alice sha256:${hashToken(token).toString('hex')}\n`);
    const second = await addToken(path, 'bob');
    assert.notEqual(second, token);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(await listTokens(path), ['alice', 'bob']);
    await assert.rejects(addToken(path, 'alice'), /alice exists already/);
    await assert.rejects(addToken(path, 'bad name'), { field: 'name' });
    await assert.rejects(addToken(path, ''), { field: 'name' });
    await revokeToken(path, 'alice');
    assert.deepEqual(await listTokens(path), ['bob']);
    await assert.rejects(revokeToken(path, 'alice'), /no token named alice/);
  } finally {
    process.umask(old);
  }
});

test('a tokens file that group or others may read or write is refused, as is a symbolic link or an empty file', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'tokens');
  await writeFile(path, tokenLine('alice', 'x'), { mode: 0o600 });
  for (const mode of [0o640, 0o604, 0o620, 0o602, 0o644]) {
    await chmod(path, mode);
    await assert.rejects(
      TokensFile.open(path, () => undefined),
      (error: Error & { field?: string }) => {
        assert.equal(error.field, 'AUDIT_HTTP_TOKENS_FILE');
        assert.match(error.message, new RegExp(`is mode ${mode.toString(8)}: group or others`));
        return true;
      },
    );
    await assert.rejects(addToken(path, 'bob'), /group or others/);
    await assert.rejects(listTokens(path), /group or others/);
  }
  await chmod(path, 0o600);
  const link = join(dir, 'link');
  await symlink(path, link);
  await assert.rejects(
    TokensFile.open(link, () => undefined),
    /symbolic link/,
  );
  const empty = join(dir, 'empty');
  await writeFile(empty, '# nothing yet\n', { mode: 0o600 });
  await assert.rejects(
    TokensFile.open(empty, () => undefined),
    /holds no tokens/,
  );
  await assert.rejects(
    TokensFile.open(join(dir, 'absent'), () => undefined),
    /cannot be read/,
  );
});

test('a running service follows the tokens file: a revoked token is refused at the next request, an unsafe file refuses all', async (t) => {
  const store = new LocalDirStore(join(await tempDir(t), 'archive'));
  const { url, tokensPath } = await startService(t, { store });
  const status = async (token: string): Promise<number> =>
    (
      await call(`${url}/v1/exports/01890000-0000-7000-8000-000000000000`, {
        headers: bearer(token),
      })
    ).status;
  assert.equal(await status(TOKENS.alice), 200);
  assert.equal(await status(TOKENS.bob), 200);
  await revokeToken(tokensPath, 'alice');
  assert.equal(await status(TOKENS.alice), 401);
  assert.equal(await status(TOKENS.bob), 200);
  const carol = await addToken(tokensPath, 'carol');
  assert.equal(await status(carol), 200);
  await chmod(tokensPath, 0o644);
  assert.equal(await status(TOKENS.bob), 401, 'a file others may read authenticates nobody');
  await chmod(tokensPath, 0o600);
  assert.equal(await status(TOKENS.bob), 200);
});
