/**
 * `archive`: the archiver over the local spool (local transport) or as the
 * archiver consumer group (kafka transport, `AUDIT_ARCHIVER_GROUP`), into the archive store
 * (the local folder or S3). Runs until SIGTERM/SIGINT, then writes the open
 * batches; `--once` stops when everything the source held at start is archived.
 */
import { ArchiverMetrics } from '../../consumers/archiver/archiver-metrics.js';
import { metricsFromSettings } from '../metrics-server.js';
import type { Registry } from '../../common/metrics/metrics.js';
import { untilSignal } from '../signals.js';
import type { Logger } from 'pino';
import type { ArchiveStats, Archiver } from '../../consumers/archiver/archiver.js';
import { kafkaArchiver } from '../../consumers/archiver/kafka-archiver.js';
import { spoolArchiver } from '../../consumers/archiver/spool-archiver.js';
import { AuditError, AuditErrorCode } from '../../common/errors.js';
import { checkTopics, createKafka, kafkaBrokers } from '../../kafka/client.js';
import { kafkaError } from '../../kafka/errors.js';
import { parseOptions } from '../args.js';
import { cliSettings, effectiveEnv, requireKafka, type CliSettings } from '../config.js';
import { archiveStore } from '../store.js';
import { signingKey } from '../keys.js';
import { ARCHIVE_COMMAND } from '../command-specs.js';

/** The archiver of the configured transport: the consumer group, or the spool's. */
async function archiverFor(
  settings: CliSettings,
  spoolDir: string | undefined,
  archiveDir: string | undefined,
  logger: Logger,
  registry: Registry | undefined,
): Promise<{ archiver: Archiver; mapFault: (error: unknown) => unknown }> {
  const common = {
    store: archiveStore(settings, archiveDir),
    prefix: settings.prefix,
    batch: settings.batch,
    signingKey: signingKey(settings),
    digestIntervalMs: settings.digestIntervalMs,
    objectsInFlight: settings.archiverObjectsInFlight,
    logger,
    metrics: registry && new ArchiverMetrics({ registry }),
  };
  if (settings.transport !== 'kafka') {
    const archiver = spoolArchiver({ ...common, spoolDir: spoolDir ?? settings.spoolDir });
    return { archiver, mapFault: (error) => error };
  }
  const kafka = createKafka(requireKafka(settings), logger);
  const topic = settings.topics.eventsTopic;
  const group = settings.archiverGroupId;
  // an unreachable broker, refused credentials or a missing topic are reported at once; the
  // archiver's own client then rides out outages
  await checkTopics(requireKafka(settings), logger, [topic], group);
  const archiver = kafkaArchiver({
    ...common,
    kafka,
    topic,
    dlqTopic: settings.topics.dlqTopic,
    groupId: group,
    sessionTimeoutMs: settings.archiverSessionTimeoutMs,
    partitionsConcurrently: settings.archiverPartitionsConcurrently,
    fetchMaxBytes: settings.archiverFetchMaxBytes,
    fetchMaxBytesPerPartition: settings.archiverFetchMaxBytesPerPartition,
  });
  // the archiver codes what it can; a kafkajs error it lets through is coded here, with the broker named
  const context = {
    operation: 'archive from',
    topic,
    group,
    brokers: kafkaBrokers(kafka),
  };
  return { archiver, mapFault: (error) => kafkaError(error, context) };
}

async function runArchiver(
  { archiver, mapFault }: { archiver: Archiver; mapFault: (error: unknown) => unknown },
  once: boolean,
  stopTimeoutMs: number,
  logger: Logger,
): Promise<number> {
  // what "everything" means for --once: the end of each partition now, less what is committed
  const ends = once
    ? await archiver.backlog().catch((error: unknown) => {
        exitSoon();
        throw mapFault(error);
      })
    : undefined;
  // runs until SIGTERM/SIGINT, the end of --once, or a fault no retry heals
  const { signal, dispose } = untilSignal();
  const finish = new AbortController();
  signal.addEventListener('abort', () => finish.abort(), { once: true });
  void archiver.failed.then(() => finish.abort());
  // a start or a catch-up that fails is reported after the archiver has stopped
  let runError: unknown;
  const started = archiver.start().catch((error: unknown) => {
    runError = error;
    finish.abort();
  });
  await Promise.race([started, aborted(finish.signal)]);
  await (
    ends === undefined || finish.signal.aborted
      ? aborted(finish.signal)
      : archiver.catchUp(ends, finish.signal)
  ).catch((error: unknown) => {
    runError ??= error;
  });
  dispose();
  // the stop is bounded: with Kafka or the store gone, what is not written stays uncommitted
  const stats = await stopWithin(archiver, stopTimeoutMs, logger).catch((error: unknown) => {
    if (archiver.failure === undefined) {
      exitSoon();
      throw mapFault(error);
    }
    return undefined; // the fault is what to report
  });
  const fault = archiver.failure ?? runError;
  if (fault !== undefined || stats === undefined) {
    exitSoon();
    throw mapFault(fault);
  }
  process.stdout.write(summary(stats));
  exitSoon(); // a kafkajs client that lost its broker may still hold a reconnect timer
  return 0;
}

/** The same line for both transports: what this run wrote into objects. */
function summary(stats: ArchiveStats): string {
  return `archived ${stats.events} events into ${stats.objects} objects (${stats.duplicatesDropped} duplicates dropped, ${stats.deadLetters} dead letters)\n`;
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) =>
    signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true }),
  );
}

/** `archiver.stop()`, or a TIMEOUT error after `timeoutMs`; the process then exits shortly. */
async function stopWithin(
  archiver: Archiver,
  timeoutMs: number,
  logger: Logger,
): Promise<ArchiveStats> {
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

export async function archiveCommand(args: string[], logger: Logger): Promise<number> {
  const o = parseOptions(args, ARCHIVE_COMMAND.options);
  const env = effectiveEnv(o.config);
  const settings = cliSettings(env);
  // a run with --once ends before anyone would scrape it: no endpoint
  const endpoint = o.once ? undefined : await metricsFromSettings(env, logger);
  try {
    return await runArchiver(
      await archiverFor(settings, o.spool, o.archive, logger, endpoint?.registry),
      o.once,
      settings.archiverStopTimeoutMs,
      logger,
    );
  } finally {
    await endpoint?.close();
  }
}
