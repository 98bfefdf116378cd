/**
 * `archive`: local transport — drain the spool into the archive; kafka
 * transport — run the `audit-archiver` consumer group into the archive store
 * (the local folder or S3). Runs until SIGTERM/SIGINT, then writes the open
 * batches; `--once` stops when everything on the topic at start is archived.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { SpoolArchiver } from '../../consumers/archiver/spool-archiver.js';
import { type KafkaArchiveStats, KafkaArchiver } from '../../consumers/archiver/kafka-archiver.js';
import { AuditError, AuditErrorCode } from '../../common/errors.js';
import { RETRY_POLICIES } from '../../common/retry.js';
import { createKafka, kafkaBrokers, withAdmin } from '../../kafka/client.js';
import { kafkaError } from '../../kafka/errors.js';
import { parseOptions, CONFIG_OPTION, type CommandSpec } from '../args.js';
import { cliSettings, effectiveEnv, requireKafka, type CliSettings } from '../config.js';
import { ARCHIVER_DEFAULTS } from '../settings.js';
import { archiveStore } from '../store.js';
import { signingKey } from '../keys.js';

function untilSignal(): { signal: AbortSignal; dispose: () => void } {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return {
    signal: stop.signal,
    dispose: () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}

/** True when every partition holds, archived or in its open batch, everything up to its end at start. */
async function allAccounted(archiver: KafkaArchiver, ends: Map<number, number>): Promise<boolean> {
  for (const [partition, high] of ends) {
    if ((await archiver.accountedThrough(partition)) < high - 1) return false;
  }
  return true;
}

async function archiveKafka(
  settings: CliSettings,
  once: boolean,
  archiveDir: string | undefined,
  logger: Logger,
): Promise<number> {
  const kafka = createKafka(requireKafka(settings), logger);
  const topic = settings.topics.eventsTopic;
  // what "everything" means for --once: the end of each partition now, less what the group already committed
  const groupId = ARCHIVER_DEFAULTS.groupId;
  const { ends, committed } = await withAdmin(
    // a client of its own with quick retries: a broker that is down is reported at once
    createKafka(requireKafka(settings), logger, { retry: RETRY_POLICIES.kafkaClient }),
    { operation: 'read the offsets of', topic, group: groupId },
    async (admin) => ({
      ends: await admin.fetchTopicOffsets(topic),
      committed: await admin.fetchOffsets({ groupId, topics: [topic] }),
    }),
  );
  const committedAt = new Map(
    (committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]),
  );
  const pending = new Map(
    ends
      .map((p) => [p.partition, Number(p.high)] as const)
      .filter(([partition, high]) => high > 0 && (committedAt.get(partition) ?? -1) < high),
  );

  const context = {
    operation: 'archive from',
    topic,
    group: groupId,
    brokers: kafkaBrokers(kafka),
  };
  const archiver = new KafkaArchiver({
    sessionTimeoutMs: settings.archiverSessionTimeoutMs,
    batch: settings.batch,
    signingKey: signingKey(settings),
    digestIntervalMs: settings.digestIntervalMs,
    kafka,
    store: archiveStore(settings, archiveDir),
    topic,
    groupId,
    prefix: settings.prefix,
    logger,
  });
  // runs until SIGTERM/SIGINT, the end of --once, or a fault no retry heals
  const { signal, dispose } = untilSignal();
  const finish = new AbortController();
  signal.addEventListener('abort', () => finish.abort(), { once: true });
  void archiver.failed.then(() => finish.abort());
  let startError: unknown;
  let checkError: unknown;
  const started = archiver.start().catch((error: unknown) => {
    startError = error;
    finish.abort();
  });
  await Promise.race([started, aborted(finish.signal)]);
  while (!finish.signal.aborted) {
    if (once) {
      // a retriable failure (the store away for a moment) means: check again later; others stop the run
      const done = await allAccounted(archiver, pending).catch((error: unknown) => {
        if (error instanceof AuditError && error.retriable) return false;
        checkError = error;
        return true;
      });
      if (done) break;
    }
    await sleep(200, undefined, { signal: finish.signal }).catch(ignoreAbort);
  }
  dispose();
  // the stop is bounded: with Kafka or the store gone, what is not written stays uncommitted
  const stats = await stopWithin(archiver, settings.archiverStopTimeoutMs, logger).catch(
    (error: unknown) => {
      if (archiver.failure === undefined) {
        exitSoon();
        throw kafkaError(error, context);
      }
      return undefined; // the fault is what to report
    },
  );
  const fault = archiver.failure ?? startError ?? checkError;
  if (fault !== undefined || stats === undefined) {
    exitSoon();
    // the archiver maps what it can; a kafkajs error it lets through is mapped here
    throw kafkaError(fault, context);
  }
  process.stdout.write(summary(stats));
  exitSoon(); // a kafkajs client that lost its broker may still hold a reconnect timer
  return 0;
}

/** The same line for both transports: what this run wrote into objects. */
function summary(stats: KafkaArchiveStats): string {
  return `archived ${stats.events} events into ${stats.objects} objects (${stats.duplicatesDropped} duplicates dropped, ${stats.deadLetters} dead letters)\n`;
}

function ignoreAbort(error: unknown): void {
  if ((error as Error).name !== 'AbortError') throw error;
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) =>
    signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true }),
  );
}

/** `archiver.stop()`, or a TIMEOUT error after `timeoutMs`; the process then exits shortly. */
async function stopWithin(
  archiver: KafkaArchiver,
  timeoutMs: number,
  logger: Logger,
): Promise<KafkaArchiveStats> {
  archiver.requestStop();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      exitSoon();
      reject(
        new AuditError(
          AuditErrorCode.Timeout,
          `the archiver did not stop within ${timeoutMs} ms (AUDIT_ARCHIVER_STOP_TIMEOUT_MS): Kafka or the store does not answer; what was not written is not committed`,
        ),
      );
    }, timeoutMs);
  });
  try {
    return await Promise.race([archiver.stop(), deadline]);
  } catch (error) {
    logger.debug({ err: (error as Error).message }, 'stop failed');
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Once the archiver has stopped (or failed to), clients that still wait on an
 * unreachable server (kafkajs reconnects, S3 sockets) must not keep the
 * process alive: it exits a second later, with the code main() set.
 */
function exitSoon(): void {
  setTimeout(() => process.exit(), 1000).unref();
}

export const ARCHIVE_COMMAND = {
  name: 'archive',
  summary: 'move events from the spool (local) or the events topic (kafka) into the archive',
  description: `Writes events into archive objects (Avro container files with a hash chain and,
with AUDIT_SIGNING_KEY_FILE, signed digests) in the archive store (AUDIT_ARCHIVE_STORE: the
local folder or S3). With the local transport it drains the spool; with the kafka transport it
runs the audit-archiver consumer group on the events topic.

Runs until SIGTERM or SIGINT, then writes the open batches; with --once it stops when
everything in the spool, or on the topic at start, is archived.`,
  options: {
    once: { type: 'boolean', default: false, doc: 'archive what is there now, then exit' },
    spool: {
      type: 'string',
      value: 'DIR',
      doc: 'spool folder of the local transport (default $AUDIT_SPOOL_DIR or ./audit-data/spool)',
    },
    archive: {
      type: 'string',
      value: 'DIR',
      doc: 'write into this local folder, whatever the archive store (default $AUDIT_ARCHIVE_DIR or ./audit-data/archive)',
    },
    config: CONFIG_OPTION,
  },
} as const satisfies CommandSpec;

export async function archiveCommand(args: string[], logger: Logger): Promise<number> {
  const o = parseOptions(args, ARCHIVE_COMMAND.options);
  const settings = cliSettings(effectiveEnv(o.config));
  if (settings.transport === 'kafka') return archiveKafka(settings, o.once, o.archive, logger);
  const archiver = new SpoolArchiver({
    spoolDir: o.spool ?? settings.spoolDir,
    store: archiveStore(settings, o.archive),
    prefix: settings.prefix,
    batch: settings.batch,
    signingKey: signingKey(settings),
    digestIntervalMs: settings.digestIntervalMs,
    logger,
  });
  let stats;
  if (o.once) {
    stats = await archiver.drain();
  } else {
    const { signal, dispose } = untilSignal();
    stats = await archiver.run(signal);
    dispose();
  }
  process.stdout.write(summary(stats));
  return 0;
}
