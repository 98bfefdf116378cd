/**
 * What `verify` and a verified `export` check the archive against, outside the
 * bucket: the partitions that must exist (the events topic's partitions on
 * Kafka, partition 0 of the embedded pipeline, or `--partitions`), the grace
 * period, and the anchor file of the previous run.
 */
import { writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { writeFileAtomically } from '../common/atomic-file.js';
import { AuditError, AuditErrorCode, ConfigError } from '../common/errors.js';
import { partitionId } from '../consumers/archiver/archive-key.js';
import { LOCAL_PARTITION, LOCAL_TOPIC } from '../consumers/runtime/spool-source.js';
import type { Anchor } from '../consumers/archiver/verify.js';
import { createKafka } from '../kafka/client.js';
import { requireKafka, type CliSettings } from './config.js';

/** The partitions (`topic/partition`) the archive must hold. */
export async function expectedPartitions(
  settings: CliSettings,
  logger: Logger,
  count?: number,
): Promise<string[]> {
  const topic = settings.transport === 'kafka' ? settings.topics.eventsTopic : LOCAL_TOPIC;
  if (count !== undefined) return Array.from({ length: count }, (_, p) => partitionId(topic, p));
  if (settings.transport !== 'kafka') return [partitionId(LOCAL_TOPIC, LOCAL_PARTITION)];
  const admin = createKafka(requireKafka(settings), logger).admin();
  try {
    await admin.connect();
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = metadata.topics[0]?.partitions.map((p) => p.partitionId) ?? [];
    return partitions.sort((a, b) => a - b).map((p) => partitionId(topic, p));
  } catch (cause) {
    throw new AuditError(
      AuditErrorCode.Unavailable,
      `cannot read the partitions of topic ${topic} from Kafka (${(cause as Error).message}); give them with --partitions N`,
      { retriable: true, cause },
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function isAnchor(value: unknown): value is Anchor {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.values(value).every(
    (e: unknown) =>
      typeof e === 'object' &&
      e !== null &&
      typeof (e as Record<string, unknown>)['digest_key'] === 'string' &&
      typeof (e as Record<string, unknown>)['signature'] === 'string' &&
      typeof (e as Record<string, unknown>)['interval_end'] === 'string' &&
      Number.isSafeInteger((e as Record<string, unknown>)['covered_through_offset']),
  );
}

/** The anchor kept by the previous run, or undefined when the file does not exist yet. */
export function readAnchor(path: string): Anchor | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError('--anchor', `cannot read ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const partitions = (parsed as { partitions?: unknown } | undefined)?.partitions;
  if (!isAnchor(partitions))
    throw new ConfigError('--anchor', `${path} is not an anchor written by audit-trail verify`);
  return partitions;
}

/** Replaces the anchor file atomically, readable by its owner only. */
export async function writeAnchor(path: string, anchor: Anchor): Promise<void> {
  const text = JSON.stringify({ version: 1, partitions: anchor }, null, 2) + '\n';
  await writeFileAtomically(path, (temp) => writeFile(temp, text, { mode: 0o600 }));
}
