import type { Logger } from 'pino';
import { AuditEvent } from '../../producer/audit-event.js';
import { AUDIT_EVENT_TYPES, isAuditEventType } from '../../schemas/event-type.js';
import { parseOptions, positiveInt, UsageError, CONFIG_OPTION, type CommandSpec } from '../args.js';
import { cliSettings, effectiveEnv } from '../config.js';
import { openTrail } from '../trail.js';

export const EMIT_COMMAND = {
  name: 'emit',
  summary: 'record one event through the configured transport',
  description: `Records one event through the configured transport (AUDIT_TRANSPORT). With kafka it
waits up to --wait ms for the broker to acknowledge; an event not acknowledged by then stays in
the spool and is sent by the next run.`,
  options: {
    type: {
      type: 'string',
      value: 'TYPE',
      required: true,
      doc: `${AUDIT_EVENT_TYPES.join(', ')}`,
    },
    package: {
      type: 'string',
      value: 'NAME',
      doc: 'package name (required for the three Package* types)',
    },
    version: { type: 'string', value: 'V', doc: 'package version' },
    user: { type: 'string', value: 'U', doc: 'user responsible' },
    ip: { type: 'string', value: 'IP', doc: 'IPv4 or IPv6 address' },
    source: {
      type: 'string',
      value: 'S',
      doc: 'emitting host or installer id (default $AUDIT_SOURCE or the host name)',
    },
    failure: { type: 'boolean', default: false, doc: 'the operation failed; needs --error' },
    error: { type: 'string', value: 'MSG', doc: 'error message of a failure' },
    detail: {
      type: 'string',
      multiple: true,
      value: 'key=value',
      doc: 'a detail; repeat for more',
    },
    wait: {
      type: 'string',
      value: 'MS',
      fallback: 30_000,
      doc: 'how long to wait for the broker to acknowledge',
    },
    config: CONFIG_OPTION,
  },
} as const satisfies CommandSpec;

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
