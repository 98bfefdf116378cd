/**
 * Checks of component options at construction. Each mistake is a ConfigError
 * whose field is the option's path (`spool.maxBytes`, `S3Store.bucket`), so the
 * caller knows what to change.
 */
import { ConfigError } from './errors.js';

/** `value`, or `fallback` when it is undefined; a positive integer either way. */
export function positiveIntegerOption(
  field: string,
  value: number | undefined,
  fallback: number,
): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v <= 0)
    throw new ConfigError(field, `must be a positive integer, got ${String(value)}`);
  return v;
}

/** `value`, or `fallback` when it is undefined; one of `allowed` either way. */
export function oneOfOption<const V extends string>(
  field: string,
  value: string | undefined,
  allowed: readonly V[],
  fallback: V,
): V {
  const v = value ?? fallback;
  if (!(allowed as readonly string[]).includes(v))
    throw new ConfigError(field, `must be one of ${allowed.join(', ')}, got ${String(value)}`);
  return v as V;
}

/** `value`, or `fallback` when it is undefined; a string that is present and not blank either way. */
export function nonEmptyOption(field: string, value: unknown, fallback?: string): string {
  const v = value ?? fallback;
  if (typeof v !== 'string' || v.trim() === '')
    throw new ConfigError(field, `must be a non-empty string, got ${JSON.stringify(value)}`);
  return v;
}
