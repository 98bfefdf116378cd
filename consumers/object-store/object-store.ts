/**
 * Where archive objects live. Two implementations: a local directory (the
 * embedded default) and S3. The archiver, exporter and verify only see this
 * interface; test/consumers/object-store.conformance.ts runs against each.
 */
export interface ObjectStore {
  /** A short description for logs and reports, e.g. `dir:/var/audit` or `s3://bucket`. */
  readonly description: string;
  /**
   * Stores `body` under `key`, replacing any object there. All or nothing: a
   * reader sees the old object, no object, or the whole new one.
   */
  put(key: string, body: Buffer): Promise<void>;
  /**
   * Stores `body` under `key` only if no object is there, decided by the store
   * itself (S3: `If-None-Match: *`; a directory: an atomic link). Resolves true
   * when this call created the object, false when one was there already (it is
   * left as it was). Of concurrent calls on one key, exactly one gets true.
   */
  putIfAbsent(key: string, body: Buffer): Promise<boolean>;
  /** The whole object; a StorageError with code NOT_FOUND when there is none. */
  get(key: string): Promise<Buffer>;
  /**
   * The first `maxBytes` bytes of the object (all of it when it is shorter),
   * for reading a header without the body (S3: a ranged GET). NOT_FOUND as
   * `get`. A store that cannot read part of an object returns the whole one.
   */
  getHead(key: string, maxBytes: number): Promise<Buffer>;
  /** Keys that start with `prefix`, in ascending byte order. */
  list(prefix: string): AsyncIterable<string>;
  delete(key: string): Promise<void>;
}

/** Keys are relative, `/`-separated, without empty, `.` or `..` parts. */
export function isValidObjectKey(key: string): boolean {
  if (key.length === 0 || key.length > 1024 || key.startsWith('/') || key.includes('\\'))
    return false;
  return key.split('/').every((part) => part.length > 0 && part !== '.' && part !== '..');
}
