/**
 * Dead letters in the object store, beside the archive: one object per record,
 * `<prefix>-dlq/<topic>/<partition>/<offset 20 digits>.bin` with its bytes and
 * a `.reason` beside it. The sink of the embedded pipeline, which has no
 * dead-letter topic.
 */
import type { ObjectStore } from '../object-store/object-store.js';
import type { DeadLetter, DeadLetterSink } from '../runtime/record-source.js';

export class StoreDeadLetters implements DeadLetterSink {
  readonly target: string;
  private readonly store: ObjectStore;

  constructor(store: ObjectStore, prefix: string) {
    this.store = store;
    this.target = `${prefix}-dlq/`;
  }

  async send(records: readonly DeadLetter[]): Promise<void> {
    for (const record of records) {
      const key = `${this.target}${record.topic}/${record.partition}/${String(record.offset).padStart(20, '0')}.bin`;
      const { code, message } = record.decoded.error;
      await this.store.put(key, record.value ?? Buffer.alloc(0));
      await this.store.put(`${key}.reason`, Buffer.from(`${code}: ${message}\n`, 'utf8'));
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
