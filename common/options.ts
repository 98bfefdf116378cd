/** Checks of component options at construction: each failure is a ConfigError naming the option. */
import { ConfigError } from './errors.js';

/** `value`, or `fallback` when absent; a ConfigError unless it is a positive integer. */
export function positiveInteger(
  field: string,
  value: number | undefined,
  fallback: number,
): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v <= 0)
    throw new ConfigError(field, `must be a positive integer, got ${String(value)}`);
  return v;
}

/** `value`, or `fallback` when absent; a ConfigError unless it is a non-empty string. */
export function nonEmptyString(field: string, value: string | undefined, fallback: string): string {
  const v = value ?? fallback;
  if (typeof v !== 'string' || v.length === 0)
    throw new ConfigError(field, `must be a non-empty string, got ${JSON.stringify(value)}`);
  return v;
}

/** `value`, or `fallback` when absent; a ConfigError unless it is one of `allowed`. */
export function oneOf<T extends string>(
  field: string,
  value: T | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  const v = value ?? fallback;
  if (!allowed.includes(v))
    throw new ConfigError(field, `must be one of ${allowed.join(', ')}, got ${String(value)}`);
  return v;
}
