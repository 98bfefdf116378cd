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
import { RETRY_POLICIES } from '../common/retry.js';
import { partitionId } from '../consumers/archiver/archive-key.js';
import { LOCAL_PARTITION, LOCAL_TOPIC } from '../consumers/runtime/spool-source.js';
import type { Anchor } from '../consumers/archiver/verify.js';
import { createKafka, withAdmin } from '../kafka/client.js';
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
  const kafka = createKafka(requireKafka(settings), logger, { retry: RETRY_POLICIES.kafkaClient });
  const partitions = await withAdmin(
    kafka,
    { operation: 'read the partitions of', topic },
    async (admin) => {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      return metadata.topics[0]?.partitions.map((p) => p.partitionId) ?? [];
    },
  ).catch((error: unknown) => {
    if (!(error instanceof AuditError) || error.code !== AuditErrorCode.Unavailable) throw error;
    throw new AuditError(error.code, `${error.message}; give the partitions with --partitions N`, {
      retriable: error.retriable,
      cause: error,
    });
  });
  return partitions.sort((a, b) => a - b).map((p) => partitionId(topic, p));
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
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
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
