/**
 * The Java client's key partitioner (murmur2 of the key's UTF-8 bytes, made
 * positive, modulo the partition count), as kafkajs's DefaultPartitioner
 * computes it, on 32-bit integers. kafkajs computes the same hash with a
 * 64-bit Long object per step and a Buffer per string key: on a producer's
 * hot path that is a large part of the cost of sending. The partitions are the
 * same for every key (test/kafka/partitioner.test.ts checks them against
 * kafkajs's), so a key written by either lands on the same partition.
 */
import kafkajs, { type ICustomPartitioner } from 'kafkajs';

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** murmur2 (Kafka's variant) of the first `length` bytes of `data`, a signed 32-bit integer. */
export function murmur2(data: Uint8Array, length = data.length): number {
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k =
      (data[i] as number) |
      ((data[i + 1] as number) << 8) |
      ((data[i + 2] as number) << 16) |
      ((data[i + 3] as number) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length & 3;
  if (rest > 0) {
    if (rest === 3) h ^= (data[whole + 2] as number) << 16;
    if (rest >= 2) h ^= (data[whole + 1] as number) << 8;
    h = Math.imul(h ^ (data[whole] as number), M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Where ASCII keys are put as bytes without a Buffer each; longer or other keys get one. */
const ascii = new Uint8Array(256);

/** murmur2 of a key as kafkajs hashes it: a Buffer as is, anything else as the UTF-8 of its string. */
export function keyHash(key: Buffer | string): number {
  if (typeof key !== 'string') return murmur2(key);
  if (key.length > ascii.length) return murmur2(Buffer.from(key));
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    if (code > 0x7f) return murmur2(Buffer.from(key));
    ascii[i] = code;
  }
  return murmur2(ascii, key.length);
}

/**
 * kafkajs's DefaultPartitioner with the hash above: a message's own
 * `partition` first, then the key's murmur2; a message without a key goes
 * to kafkajs's own partitioner (round robin over available partitions).
 */
export const keyPartitioner: ICustomPartitioner = () => {
  const fallback = kafkajs.Partitioners.DefaultPartitioner();
  return (args) => {
    const { message, partitionMetadata } = args;
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    if (message.key === null || message.key === undefined) return fallback(args);
    return (keyHash(message.key) & 0x7fffffff) % partitionMetadata.length;
  };
};
