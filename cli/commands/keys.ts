/** `keys generate --out DIR`: a new Ed25519 key pair for signing digests. */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseOptions, UsageError } from '../args.js';

export function keysCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'generate')
    throw new UsageError(
      `unknown keys action "${action ?? ''}" (try: audit-trail keys generate --out DIR)`,
    );
  const o = parseOptions(rest, {
    out: { type: 'string' },
    force: { type: 'boolean', default: false },
  });
  if (o.out === undefined) throw new UsageError('--out DIR is required');
  const privatePath = join(o.out, 'audit-signing.key');
  const publicPath = join(o.out, 'audit-signing.pub');
  if (!o.force && (existsSync(privatePath) || existsSync(publicPath))) {
    throw new UsageError(`${privatePath} or ${publicPath} exists already (--force replaces them)`);
  }
  mkdirSync(o.out, { recursive: true });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(publicPath, publicKey.export({ type: 'spki', format: 'pem' }));
  process.stdout.write(
    `wrote ${privatePath} (private: AUDIT_SIGNING_KEY_FILE of the archiver, keep it secret)\n` +
      `wrote ${publicPath} (public: AUDIT_VERIFY_KEY_FILE of verify)\n`,
  );
  return Promise.resolve(0);
}
