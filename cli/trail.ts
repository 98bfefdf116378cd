/** The AuditTrail a command writes through: the local spool, or Kafka behind it. */
import type { Logger } from 'pino';
import { RETRY_POLICIES, retry } from '../common/retry.js';
import { AuditErrorCode, isAuditError } from '../common/errors.js';
import { createKafka } from '../kafka/client.js';
import { AuditTrail } from '../producer/audit-trail.js';
import { KafkaTransport } from '../producer/kafka-transport.js';
import { requireKafka, type CliSettings } from './config.js';

/** Opens the configured trail; waits a while if another process holds the spool. */
export async function openTrail(settings: CliSettings, logger: Logger): Promise<AuditTrail> {
  return retry(
    () => {
      if (settings.transport === 'local') {
        return new AuditTrail({
          spoolDir: settings.spoolDir,
          retainInMemory: false,
          source: settings.source,
        });
      }
      const transport = new KafkaTransport({
        kafka: createKafka(requireKafka(settings), logger, { retry: RETRY_POLICIES.kafkaClient }),
        spoolDir: settings.spoolDir,
        topic: settings.topics.eventsTopic,
        logger,
      });
      return new AuditTrail({ transport, retainInMemory: false, source: settings.source });
    },
    {
      policy: RETRY_POLICIES.spoolLock,
      isRetriable: (error) => isAuditError(error) && error.code === AuditErrorCode.SpoolLocked,
    },
  );
}
