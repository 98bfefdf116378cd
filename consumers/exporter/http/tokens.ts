/**
 * Bearer tokens of the HTTP service. The tokens file holds one line per
 * token, `<name> sha256:<hex of the SHA-256 of the token>`, with `#` comments
 * and blank lines; never a token itself. A request's token is hashed and
 * compared with every hash in constant time; its name is who asked.
 *
 * The file is its owner's only (like a private key): one that the group or
 * others may read or write is refused, so that nobody else can add a token
 * or learn which names exist. Lines are never echoed in errors: a token pasted
 * into the file by mistake must not end up in a log.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { constants } from 'node:fs';
import { open, stat, writeFile } from 'node:fs/promises';
import { ConfigError } from '../../../common/errors.js';
import { writeFileAtomically } from '../../../common/atomic-file.js';

/** The setting that names the tokens file; errors name it. */
export const TOKENS_FILE_SETTING = 'AUDIT_HTTP_TOKENS_FILE';

/** Names are short and plain: they become `requested_by` and appear in logs and access records. */
export const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const HASH_LINE = /^(\S+)\s+sha256:([0-9a-f]{64})$/;
/** RFC 6750 b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export interface TokenEntry {
  name: string;
  /** SHA-256 of the token. */
  hash: Buffer;
}

export const hashToken = (token: string): Buffer =>
  createHash('sha256').update(token, 'utf8').digest();

/** A new token: 32 random bytes, base64url (43 characters). */
export const generateToken = (): string => randomBytes(32).toString('base64url');

function faultOf(path: string, message: string, setting: string): ConfigError {
  return new ConfigError(setting, `${path}: ${message}`);
}

const fault = (path: string, message: string): ConfigError =>
  faultOf(path, message, TOKENS_FILE_SETTING);

export function checkTokenName(name: string): void {
  if (!TOKEN_NAME.test(name))
    throw new ConfigError(
      'name',
      'must be 1 to 64 letters, digits, or . _ @ - (starting with a letter or digit)',
    );
}

/** The entries of a tokens file's text (pure). */
export function parseTokens(text: string, path: string): TokenEntry[] {
  const entries: TokenEntry[] = [];
  const names = new Set<string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = HASH_LINE.exec(line);
    const name = match?.[1];
    const hex = match?.[2];
    if (name === undefined || hex === undefined || !TOKEN_NAME.test(name))
      throw fault(
        path,
        `line ${index + 1} is not "<name> sha256:<64 hex digits>" (its content is not shown: it may hold a token)`,
      );
    if (names.has(name)) throw fault(path, `line ${index + 1}: the name ${name} is given twice`);
    names.add(name);
    entries.push({ name, hash: Buffer.from(hex, 'hex') });
  });
  return entries;
}

export const tokenLine = (name: string, token: string): string =>
  `${name} sha256:${hashToken(token).toString('hex')}\n`;

/** Identity of a version of the file: a change of any of these means read it again. */
interface FileStamp {
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

/**
 * Reads a file of secrets (the tokens file, a TLS key) through one open
 * descriptor (what is checked is what is read): a regular file, not a
 * symbolic link, not readable or writable by group or others. Errors name
 * `setting`. Resolves undefined when `missingOk` and there is no file.
 */
export async function readPrivateFile(
  setting: string,
  path: string,
  missingOk = false,
): Promise<{ text: string; stamp: FileStamp } | undefined> {
  const fault = (p: string, message: string): ConfigError => faultOf(p, message, setting);
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && missingOk) return undefined;
    if (code === 'ELOOP') throw fault(path, 'is a symbolic link; give the file itself');
    throw fault(path, `cannot be read: ${(error as Error).message}`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw fault(path, 'is not a regular file');
    if ((info.mode & 0o077) !== 0)
      throw fault(
        path,
        `is mode ${(info.mode & 0o777).toString(8)}: group or others may use it; chmod 600 it`,
      );
    const text = await handle.readFile('utf8');
    return {
      text,
      stamp: { ino: info.ino, size: info.size, mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs },
    };
  } finally {
    await handle.close();
  }
}

export const readTokensFile = (
  path: string,
  missingOk = false,
): Promise<{ text: string; stamp: FileStamp } | undefined> =>
  readPrivateFile(TOKENS_FILE_SETTING, path, missingOk);

/** The tokens a service accepts: who presents which hash. */
export class TokenSet {
  readonly #entries: readonly TokenEntry[];

  constructor(entries: readonly TokenEntry[]) {
    this.#entries = entries;
  }

  get names(): string[] {
    return this.#entries.map((e) => e.name);
  }

  /**
   * The name of the token in an `Authorization` header, or undefined for no
   * header, a malformed one or an unknown token (callers answer all three
   * alike). Every configured hash is compared, in constant time, whichever matches.
   */
  authenticate(authorization: string | undefined): string | undefined {
    if (authorization === undefined) return undefined;
    const token = BEARER.exec(authorization)?.[1];
    // hash something even for a malformed header, so that its timing tells nothing either
    const presented = hashToken(token ?? '');
    let found: string | undefined;
    for (const entry of this.#entries)
      if (timingSafeEqual(entry.hash, presented) && token !== undefined) found ??= entry.name;
    return found;
  }
}

/**
 * The tokens file as a service reads it: read again whenever it changes
 * (checked with one stat per request), so that a revoked token is refused at
 * the next request without a restart. A file that turns bad (mode, syntax)
 * authenticates nobody until it is fixed: refusal, not the old tokens.
 */
export class TokensFile {
  readonly path: string;
  #stamp: FileStamp | undefined;
  #tokens: TokenSet = new TokenSet([]);
  #onError: (error: Error) => void;

  private constructor(path: string, onError: (error: Error) => void) {
    this.path = path;
    this.#onError = onError;
  }

  /** Opens the file; refuses a missing, unsafe, malformed or empty one. */
  static async open(path: string, onError: (error: Error) => void): Promise<TokensFile> {
    const file = new TokensFile(path, onError);
    const read = await readTokensFile(path);
    if (read === undefined) throw fault(path, 'does not exist');
    file.#load(read.text, read.stamp);
    if (file.#tokens.names.length === 0)
      throw fault(path, 'holds no tokens (add one with audit-trail tokens add NAME)');
    return file;
  }

  #load(text: string, stamp: FileStamp): void {
    this.#tokens = new TokenSet(parseTokens(text, this.path));
    this.#stamp = stamp;
  }

  /** The tokens as the file says now. */
  async current(): Promise<TokenSet> {
    try {
      const info = await stat(this.path);
      const s = this.#stamp;
      if (
        s !== undefined &&
        s.ino === info.ino &&
        s.size === info.size &&
        s.mtimeMs === info.mtimeMs &&
        s.ctimeMs === info.ctimeMs
      )
        return this.#tokens;
      const read = await readTokensFile(this.path);
      if (read === undefined) throw fault(this.path, 'does not exist');
      this.#load(read.text, read.stamp);
    } catch (error) {
      this.#tokens = new TokenSet([]);
      this.#stamp = undefined;
      this.#onError(error as Error);
    }
    return this.#tokens;
  }
}

/**
 * Adds a token named `name` to the file (created 0600 when absent) and
 * returns the token, which exists nowhere else: the file keeps its hash only.
 * The file is replaced atomically, so a reader sees it before or after.
 */
export async function addToken(path: string, name: string): Promise<string> {
  checkTokenName(name);
  const read = await readTokensFile(path, true);
  const text = read?.text ?? '';
  if (parseTokens(text, path).some((entry) => entry.name === name))
    throw new ConfigError('name', `${name} exists already in ${path} (revoke it first)`);
  const token = generateToken();
  const separator = text === '' || text.endsWith('\n') ? '' : '\n';
  await writeFileAtomically(path, (temp) =>
    writeFile(temp, `${text}${separator}${tokenLine(name, token)}`, { flag: 'wx', mode: 0o600 }),
  );
  return token;
}

export async function listTokens(path: string): Promise<string[]> {
  const read = await readTokensFile(path, true);
  return read === undefined ? [] : parseTokens(read.text, path).map((entry) => entry.name);
}

/** Removes the line of `name`; comments and other lines stay as they are. */
export async function revokeToken(path: string, name: string): Promise<void> {
  const read = await readTokensFile(path, true);
  const text = read?.text ?? '';
  const entries = parseTokens(text, path);
  if (!entries.some((entry) => entry.name === name))
    throw new ConfigError('name', `no token named ${name} in ${path}`);
  const kept = text
    .split(/(?<=\n)/)
    .filter((line) => HASH_LINE.exec(line.trim())?.[1] !== name)
    .join('');
  await writeFileAtomically(path, (temp) => writeFile(temp, kept, { flag: 'wx', mode: 0o600 }));
}
