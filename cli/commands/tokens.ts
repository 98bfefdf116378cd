/**
 * `tokens add NAME | list | revoke NAME`: the bearer tokens of `serve`, in the
 * file AUDIT_HTTP_TOKENS_FILE names. `add` prints the new token once, on
 * stdout; the file keeps only its SHA-256.
 */
import { ConfigError } from '../../common/errors.js';
import { readSetting } from '../../common/settings.js';
import { HTTP_SETTINGS } from '../../consumers/exporter/http/http-settings.js';
import { addToken, listTokens, revokeToken } from '../../consumers/exporter/http/tokens.js';
import { parseOptions, UsageError } from '../args.js';
import { effectiveEnv } from '../config.js';
import { TOKENS_COMMAND } from '../command-specs.js';

export async function tokensCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const needsName = action === 'add' || action === 'revoke';
  if (!needsName && action !== 'list')
    throw new UsageError(
      `unknown tokens action "${action ?? ''}" (try: audit-trail tokens add NAME | list | revoke NAME)`,
    );
  const name = needsName ? rest.shift() : undefined;
  if (needsName && (name === undefined || name.startsWith('-')))
    throw new UsageError(`tokens ${action} needs a NAME`);
  const o = parseOptions(rest, TOKENS_COMMAND.options);
  const path = o.file ?? readSetting(effectiveEnv(o.config), HTTP_SETTINGS.tokensFile);
  if (path === undefined)
    throw new ConfigError(HTTP_SETTINGS.tokensFile.name, 'is required (or --file FILE)');
  if (action === 'add') {
    const token = await addToken(path, name as string);
    process.stdout.write(`${token}\n`);
    process.stderr.write(
      `audit-trail: added token ${name} to ${path}; it is printed above once and stored nowhere\n`,
    );
  } else if (action === 'revoke') {
    await revokeToken(path, name as string);
    process.stderr.write(`audit-trail: revoked token ${name} in ${path}\n`);
  } else {
    for (const tokenName of await listTokens(path)) process.stdout.write(`${tokenName}\n`);
  }
  return 0;
}
