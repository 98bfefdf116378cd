/**
 * `keys generate --out DIR`: a new Ed25519 key pair for signing digests. The
 * folder is created 0700 and the private key 0600, whatever the umask or what
 * was there before; each file is written beside its target and renamed over
 * it, so a symbolic link at the target is replaced, never followed.
 */
import { generateKeyPairSync } from 'node:crypto';
import { lstatSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makePrivateFolder, writeFileAtomically } from '../../common/atomic-file.js';
import { parseOptions, UsageError } from '../args.js';
import { KEYS_COMMAND } from '../command-specs.js';

/** True when anything is at `path`, a dangling symbolic link included. */
function present(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (error) {
    // absent; EACCES and the rest are thrown: a key we cannot see must not be written over
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

export async function keysCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'generate')
    throw new UsageError(
      `unknown keys action "${action ?? ''}" (try: audit-trail keys generate --out DIR)`,
    );
  const o = parseOptions(rest, KEYS_COMMAND.options);
  if (o.out === undefined) throw new UsageError('--out DIR is required');
  const privatePath = join(o.out, 'audit-signing.key');
  const publicPath = join(o.out, 'audit-signing.pub');
  if (!o.force && (present(privatePath) || present(publicPath))) {
    throw new UsageError(`${privatePath} or ${publicPath} exists already (--force replaces them)`);
  }
  await makePrivateFolder(o.out);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' });
  await writeFileAtomically(privatePath, (temp) => writeFile(temp, privatePem, { flag: 'wx' }));
  await writeFileAtomically(publicPath, (temp) => writeFile(temp, publicPem, { flag: 'wx' }));
  process.stdout.write(
    `wrote ${privatePath} (private: AUDIT_SIGNING_KEY_FILE of the archiver, keep it secret)\n` +
      `wrote ${publicPath} (public: AUDIT_VERIFY_KEY_FILE of verify)\n`,
  );
  return 0;
}
