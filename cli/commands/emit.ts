import type { Logger } from 'pino';
import { AuditEvent } from '../../producer/audit-event.js';
import { AUDIT_EVENT_TYPES, isAuditEventType } from '../../schemas/event-type.js';
import { parseOptions, positiveInt, UsageError } from '../args.js';
import { cliSettings, effectiveEnv } from '../config.js';
import { openTrail } from '../trail.js';
import { EMIT_COMMAND } from '../command-specs.js';

export async function emitCommand(args: string[], logger: Logger): Promise<number> {
  const o = parseOptions(args, EMIT_COMMAND.options);
  if (o.type === undefined)
    throw new UsageError(`--type is required: one of ${AUDIT_EVENT_TYPES.join(', ')}`);
  if (!isAuditEventType(o.type))
    throw new UsageError(`--type must be one of ${AUDIT_EVENT_TYPES.join(', ')}, got "${o.type}"`);
  if (o.failure && o.error === undefined) throw new UsageError('--failure needs --error MESSAGE');
  if (!o.failure && o.error !== undefined)
    throw new UsageError('--error is only for a failure: add --failure');
  const waitMs = positiveInt('wait', o.wait, EMIT_COMMAND.options.wait.fallback);

  // Build the event before opening the transport: a bad value costs nothing.
  const event = new AuditEvent(o.type);
  if (o.package !== undefined) event.withPackageName(o.package);
  if (o.version !== undefined) event.withPackageVersion(o.version);
  if (o.user !== undefined) event.withUser(o.user);
  if (o.ip !== undefined) event.withIpAddress(o.ip);
  if (o.source !== undefined) event.withSource(o.source);
  for (const pair of o.detail ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--detail must be key=value, got "${pair}"`);
    event.withDetail(pair.slice(0, eq), pair.slice(eq + 1));
  }
  if (o.failure) event.withSuccess(false).withErrorMessage(o.error as string);
  event.validate();

  const settings = cliSettings(effectiveEnv(o.config));
  const trail = await openTrail(settings, logger);
  trail.addEvent(event);
  await trail.close({ timeoutMs: waitMs });
  process.stdout.write(
    settings.transport === 'kafka'
      ? `acknowledged 1 event ${event.id} by Kafka (topic ${settings.topics.eventsTopic})\n`
      : `recorded 1 event ${event.id} in the spool ${settings.spoolDir}\n`,
  );
  return 0;
}
