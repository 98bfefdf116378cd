/**
 * `audit-trail tokens` and `audit-trail serve` as processes: a token printed
 * once and usable at once, the URL printed, a warning for plain HTTP on a
 * reachable address, refusal of an unsafe tokens file, and a clean stop on
 * SIGTERM and SIGINT with an export running.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { chmod, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LocalDirStore } from '../../consumers/object-store/local-dir-store.js';
import { tempDir } from '../helpers.js';
import { bearer, call, writeArchive } from '../consumers/http/http-fixtures.js';

const MAIN = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

function cli(args: string[], env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, [MAIN, ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
}

interface Served {
  url: string;
  stderr: () => string;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
  kill: (signal: NodeJS.Signals) => void;
}

async function serve(args: string[], env: NodeJS.ProcessEnv): Promise<Served> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', ...args], {
    env: { ...process.env, AUDIT_LOG_FORMAT: 'json', AUDIT_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const match = /^listening on (\S+)\n/m.exec(stdout);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    void exited.then(([code]) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  return { url, stderr: () => stderr, exited, kill: (signal) => child.kill(signal) };
}

test('tokens add prints a token once that serve accepts; list names it; revoke removes it', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'tokens');
  const env = {
    AUDIT_HTTP_TOKENS_FILE: file,
    AUDIT_ARCHIVE_DIR: join(dir, 'archive'),
    AUDIT_SPOOL_DIR: join(dir, 'spool'),
  };
  const added = cli(['tokens', 'add', 'siem'], env);
  assert.equal(added.status, 0, added.stderr);
  const token = added.stdout.trim();
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.ok(!(await readFile(file, 'utf8')).includes(token));
  assert.ok(!added.stderr.includes(token));
  assert.equal(cli(['tokens', 'add', 'audit', '--file', file], {}).status, 0);
  assert.equal(cli(['tokens', 'list'], env).stdout, 'siem\naudit\n');
  const twice = cli(['tokens', 'add', 'siem'], env);
  assert.equal(twice.status, 1);
  assert.match(twice.stderr, /siem exists already/);
  assert.equal(cli(['tokens', 'add'], env).status, 2);
  assert.equal(cli(['tokens', 'rename', 'x'], env).status, 2);

  const served = await serve([], env);
  assert.match(served.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const ok = await call(`${served.url}v1/exports/01938f6e-8a4b-7c3d-9e2f-0123456789ab`, {
    headers: bearer(token),
  });
  assert.equal(ok.status, 200);
  assert.equal(cli(['tokens', 'revoke', 'siem'], env).status, 0);
  const revoked = await call(`${served.url}v1/exports/01938f6e-8a4b-7c3d-9e2f-0123456789ab`, {
    headers: bearer(token),
  });
  assert.equal(revoked.status, 401);
  served.kill('SIGTERM');
  assert.deepEqual(await served.exited, [0, null]);
  assert.ok(!served.stderr().includes(token), 'the token is never logged');
  assert.ok(!/authorization/i.test(served.stderr()));
});

test('serve refuses a tokens file others may read, and a missing setting, naming it', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'tokens');
  assert.equal(cli(['tokens', 'add', 'x', '--file', file], {}).status, 0);
  await chmod(file, 0o644);
  const refused = cli(['serve', '--port', '0'], { AUDIT_HTTP_TOKENS_FILE: file });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /INVALID_OPTION: AUDIT_HTTP_TOKENS_FILE: .* is mode 644/);
  const missing = cli(['serve', '--port', '0'], { AUDIT_HTTP_TOKENS_FILE: undefined });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /AUDIT_HTTP_TOKENS_FILE: is required/);
  const badPort = cli(['serve', '--port', '70000'], { AUDIT_HTTP_TOKENS_FILE: file });
  assert.equal(badPort.status, 2);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`serve stops cleanly on ${signal} with an export running, and warns of plain HTTP on a reachable address`, async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, 'tokens');
    const token = cli(['tokens', 'add', 'ops', '--file', file], {}).stdout.trim();
    const archive = join(dir, 'archive');
    await writeArchive(t, new LocalDirStore(archive), { runs: 2, perRun: 2000, perObject: 50 });
    const served = await serve(['--host', '0.0.0.0'], {
      AUDIT_HTTP_TOKENS_FILE: file,
      AUDIT_ARCHIVE_DIR: archive,
      AUDIT_SPOOL_DIR: join(dir, 'spool'),
    });
    assert.match(served.url, /^http:\/\/0\.0\.0\.0:\d+\/$/);
    const port = new URL(served.url).port;
    // the client reads the first bytes, then stops reading: the export waits on backpressure, running
    const { res } = await new Promise<{ res: IncomingMessage }>((resolve, reject) => {
      const req = httpRequest(
        `http://127.0.0.1:${port}/v1/events?format=json`,
        { headers: bearer(token), agent: false },
        (res) => res.once('data', () => (res.pause(), resolve({ res }))),
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.statusCode, 200);
    const ended = new Promise<boolean>((resolve) => {
      res.on('error', () => resolve(res.complete));
      res.on('close', () => resolve(res.complete));
    });
    served.kill(signal);
    const [code] = await served.exited;
    assert.equal(code, 0);
    res.resume();
    assert.equal(await ended, false, 'the client sees the export cut short');
    assert.match(served.stderr(), /"outcome":"aborted"/);
    assert.match(served.stderr(), /serving plain HTTP on an address other machines can reach/);
  });
}

test('with a certificate and a key, serve speaks HTTPS only; a key others may read is refused', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'tokens');
  const token = cli(['tokens', 'add', 'tls', '--file', file], {}).stdout.trim();
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const made = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);
  assert.equal(made.status, 0, made.stderr?.toString());
  await chmod(key, 0o644);
  const env = {
    AUDIT_HTTP_TOKENS_FILE: file,
    AUDIT_HTTP_TLS_CERT: cert,
    AUDIT_HTTP_TLS_KEY: key,
    AUDIT_ARCHIVE_DIR: join(dir, 'archive'),
    AUDIT_SPOOL_DIR: join(dir, 'spool'),
  };
  const refused = cli(['serve', '--port', '0'], env);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /AUDIT_HTTP_TLS_KEY: .* is mode 644/);
  const half = cli(['serve', '--port', '0'], { ...env, AUDIT_HTTP_TLS_CERT: undefined });
  assert.match(half.stderr, /AUDIT_HTTP_TLS_KEY: and AUDIT_HTTP_TLS_CERT must be given together/);
  await chmod(key, 0o600);
  const served = await serve(['--host', '127.0.0.1'], env);
  assert.match(served.url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
  const ca = await readFile(cert);
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpsRequest(
      `${served.url}v1/exports/01938f6e-8a4b-7c3d-9e2f-0123456789ab`,
      { ca, headers: bearer(token), agent: false },
      (res) => (res.resume(), resolve(res.statusCode ?? 0)),
    );
    req.on('error', reject);
    req.end();
  });
  assert.equal(status, 200);
  await assert.rejects(call(`${served.url.replace('https', 'http')}healthz`));
  served.kill('SIGTERM');
  assert.deepEqual(await served.exited, [0, null]);
  assert.ok(!/plain HTTP/.test(served.stderr()));
});

test('every export served is recorded: the access records name the token, the filters and the events, and an export selects them', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'tokens');
  const token = cli(['tokens', 'add', 'siem-reader', '--file', file], {}).stdout.trim();
  const env = {
    AUDIT_HTTP_TOKENS_FILE: file,
    AUDIT_ARCHIVE_DIR: join(dir, 'archive'),
    AUDIT_SPOOL_DIR: join(dir, 'spool'),
    AUDIT_LOG_LEVEL: 'warn',
  };
  // one spool feeds the archive: the events, then the access records of the exports served
  for (let i = 0; i < 20; i++)
    assert.equal(
      cli(['emit', '--type', 'PackageInstall', '--package', `p${i % 2}`], env).status,
      0,
    );
  assert.equal(cli(['archive', '--once'], env).status, 0);
  const served = await serve([], env);
  const direct = await call(`${served.url}v1/events?format=ndjson&package=p1`, {
    headers: bearer(token),
  });
  assert.equal(direct.status, 200);
  assert.equal(direct.body.toString().trim().split('\n').length, 10);
  const refused = await call(`${served.url}v1/events?format=ndjson`, {
    headers: bearer('not-the-token'),
  });
  assert.equal(refused.status, 401);
  served.kill('SIGTERM');
  assert.deepEqual(await served.exited, [0, null]);
  assert.equal(cli(['archive', '--once'], env).status, 0);
  const found = cli(
    ['export', '--format', 'ndjson', '--type', 'IntegrityCheck', '--user', 'siem-reader'],
    env,
  );
  assert.equal(found.status, 0, found.stderr);
  const records = found.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { details: Record<string, string>; success: boolean });
  assert.equal(
    records.length,
    1,
    'one export served, one access record; a refused request read nothing',
  );
  const [record] = records;
  assert.equal(record?.details['audit_access.channel'], 'http');
  assert.equal(record?.details['audit_access.events'], '10');
  assert.deepEqual(JSON.parse(record?.details['audit_access.filters'] ?? ''), { package: 'p1' });
  assert.equal(record?.success, true);
});
