/** Reading the digest keys that the settings name. */
import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { ConfigError } from '../common/errors.js';
import { loadSigningKey, loadVerifyKey } from '../consumers/archiver/digest.js';
import type { CliSettings } from './config.js';

function readKeyFile(setting: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(setting, `cannot read ${path}: ${(error as Error).message}`);
  }
}

export function signingKey(settings: CliSettings): KeyObject | undefined {
  const path = settings.signingKeyFile;
  return path === undefined
    ? undefined
    : loadSigningKey('AUDIT_SIGNING_KEY_FILE', readKeyFile('AUDIT_SIGNING_KEY_FILE', path));
}

export function verifyKey(settings: CliSettings): KeyObject {
  const path = settings.verifyKeyFile;
  if (path === undefined)
    throw new ConfigError(
      'AUDIT_VERIFY_KEY_FILE',
      'is required: the Ed25519 public key the digests are checked with',
    );
  return loadVerifyKey('AUDIT_VERIFY_KEY_FILE', readKeyFile('AUDIT_VERIFY_KEY_FILE', path));
}
