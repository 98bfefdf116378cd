/**
 * What each command of `audit-trail` declares: its name, summary, description
 * and options. Kept apart from the commands' code, which cli/commands.ts loads
 * only when its command runs, so that the help and each command start without
 * loading the others' dependencies (the AWS SDK, say). Pure.
 */
import { CONFIG_OPTION, type CommandSpec } from './args.js';
import { AUDIT_EVENT_TYPES } from '../schemas/event-type.js';
import { FILTER_PARAMS } from '../consumers/exporter/filter.js';
import { SIEM_FORMATS } from '../schemas/siem/formats.js';

export const DEMO_COMMAND = {
  name: 'demo',
  summary: 'simulate installers, run the embedded pipeline end to end, write JSON and CSV',
  description: `Simulates installers on several hosts emitting a realistic mix of all seven
event types, runs the embedded pipeline (spool -> archiver -> archive -> exporter) and writes
DIR/audit-trail.json and DIR/audit-trail.csv. No server is needed. DIR/spool and DIR/archive
are the demo's own and are emptied first.`,
  options: {
    events: { type: 'string', value: 'N', fallback: 10_000, doc: 'number of events' },
    out: { type: 'string', value: 'DIR', fallback: './audit-demo', doc: 'output folder' },
    seed: { type: 'string', value: 'S', fallback: 1, doc: 'seed of the simulation' },
  },
} as const satisfies CommandSpec;

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

export const PRODUCE_COMMAND = {
  name: 'produce',
  summary: 'record events from an NDJSON file through the configured transport',
  description: `Records the events of an NDJSON file (one JSON object per line, fields named as in
the exports: event_type, package_name, package_version, user, ip_address, details, success,
error_message, source, and optionally id and timestamp) through the configured transport, and
prints how many were acknowledged. Bad lines are reported with their number and skipped; the
exit code is then 1.

A failure of the spool or the broker (a full disk) stops the run at that line; the events of
the lines before it are recorded, and the summary names the line to go on from: --start-line N
skips the lines before N.`,
  options: {
    from: { type: 'string', value: 'FILE', required: true, doc: 'NDJSON file; - reads stdin' },
    'start-line': { type: 'string', value: 'N', fallback: 1, doc: 'skip the lines before line N' },
    wait: {
      type: 'string',
      value: 'MS',
      fallback: 60_000,
      doc: 'how long to wait for the broker to acknowledge',
    },
    config: CONFIG_OPTION,
  },
} as const satisfies CommandSpec;

export const ARCHIVE_COMMAND = {
  name: 'archive',
  summary: 'move events from the spool (local) or the events topic (kafka) into the archive',
  description: `Writes events into archive objects (Avro container files with a hash chain and,
with AUDIT_SIGNING_KEY_FILE, signed digests) in the archive store (AUDIT_ARCHIVE_STORE: the
local folder or S3). With the local transport it drains the spool; with the kafka transport it
runs the archiver consumer group (AUDIT_ARCHIVER_GROUP, default audit-archiver) on the
events topic.

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

export const EXPORT_COMMAND = {
  name: 'export',
  summary: 'render archived events as JSON, NDJSON or CSV',
  description: `Reads the archive store (AUDIT_ARCHIVE_STORE: the local folder or S3; --archive DIR
reads a local folder) and renders the events that match every filter given. Only the objects
the filters can touch are read: --from/--to pick the hours to list, each object's header
tells whether it can hold the time range and the package. With AUDIT_VERIFY_KEY_FILE set,
every object read is checked against the signed digests; --require-verified refuses (exit 1,
naming the object) before exporting any event of an object that fails, else failures are
reported and the exit code is 1. Writes to stdout unless --out is given (a file is replaced
atomically, so a refused export writes nothing). One summary line goes to stderr.`,
  options: {
    format: {
      type: 'string',
      value: 'F',
      required: true,
      doc: 'json (one array), ndjson (one object per line) or csv',
    },
    package: { type: 'string', value: 'NAME', doc: FILTER_PARAMS.package },
    version: { type: 'string', value: 'V', doc: FILTER_PARAMS.version },
    type: { type: 'string', value: 'TYPE', multiple: true, doc: FILTER_PARAMS.type },
    user: { type: 'string', value: 'U', doc: FILTER_PARAMS.user },
    ip: { type: 'string', value: 'IP', doc: FILTER_PARAMS.ip },
    source: { type: 'string', value: 'S', doc: FILTER_PARAMS.source },
    success: { type: 'string', value: 'BOOL', doc: FILTER_PARAMS.success },
    from: { type: 'string', value: 'ISO', doc: FILTER_PARAMS.from },
    to: { type: 'string', value: 'ISO', doc: FILTER_PARAMS.to },
    'require-verified': {
      type: 'boolean',
      doc: 'refuse, exporting nothing more, at the first object that does not verify (needs AUDIT_VERIFY_KEY_FILE)',
    },
    out: { type: 'string', value: 'FILE', doc: 'write to FILE instead of stdout' },
    archive: {
      type: 'string',
      value: 'DIR',
      doc: 'read this local folder, whatever the archive store (default $AUDIT_ARCHIVE_DIR or ./audit-data/archive)',
    },
    submit: { type: 'boolean', doc: 'ask the exporter group (kafka) instead; prints the id' },
    wait: { type: 'boolean', doc: 'with --submit: wait for the result and print it' },
    config: CONFIG_OPTION,
  },
} as const satisfies CommandSpec;

export const EXPORTER_COMMAND = {
  name: 'exporter',
  summary: 'serve export requests as a member of the exporter group (kafka)',
  description: `Joins the exporter consumer group (AUDIT_EXPORTER_GROUP) on the export requests
topic (AUDIT_EXPORT_REQUESTS_TOPIC). Each request is rendered from the archive store into parts
under AUDIT_EXPORTS_PREFIX/<id>/, its result.json is written last, and the result is published
on AUDIT_EXPORT_RESULTS_TOPIC in a Kafka transaction with the request's offset: a read_committed
reader sees each result once. With AUDIT_VERIFY_KEY_FILE set, an export of objects that do not
verify fails. Runs until SIGTERM or SIGINT; see docs/exporter.md.`,
  options: { config: CONFIG_OPTION },
} as const satisfies CommandSpec;

export const SIEM_FEED_COMMAND = {
  name: 'siem-feed',
  summary: 'republish the events in a SIEM format on <events topic>.<format> (kafka)',
  description: `Joins the consumer group of the format (AUDIT_SIEM_FEED_GROUP, default audit-siem-<format>)
on the events topic (AUDIT_TOPIC) and publishes every event, rendered in the format, on
<AUDIT_TOPIC>.<format> with the event's key (the package name), so that the order of each package
is kept. Records that do not decode go to the dead-letter topic. Events and offsets are committed
in Kafka transactions: a read_committed reader sees every event once, whenever a member is killed.
Runs until SIGTERM or SIGINT; see docs/siem.md.`,
  options: {
    format: {
      type: 'string',
      value: SIEM_FORMATS.join('|'),
      required: true,
      doc: 'the SIEM format of the feed',
    },
    config: CONFIG_OPTION,
  },
} as const satisfies CommandSpec;

export const MONITOR_COMMAND = {
  name: 'monitor',
  summary: 'raise alerts on suspicious activity in the events (kafka)',
  description: `Joins the monitor's consumer group (AUDIT_MONITOR_GROUP, default audit-monitor) on the
events topic (AUDIT_TOPIC) and on its keyed topic <AUDIT_TOPIC>.monitor. Each event is routed to the
keyed topic under the keys its rules count by (package, source, user), and the rules are evaluated
there: repeated integrity failures, an install after a scan found it vulnerable, protection turned
off, a user from a new IP address, bursts of failures or of runtime blocks. Alerts go to
AUDIT_ALERTS_TOPIC as JSON and to <AUDIT_ALERTS_TOPIC>.ocsf as OCSF Detection Findings, in Kafka
transactions (a read_committed reader sees each alert once, whenever a member is killed), and to
the log. Thresholds and windows come from the rules file (--rules or AUDIT_MONITOR_RULES; the
built-in rules without one). Runs until SIGTERM or SIGINT; see docs/monitor.md.`,
  options: {
    rules: {
      type: 'string',
      value: 'FILE',
      doc: 'rules file (JSON, as AUDIT_MONITOR_RULES); what it names overrides the built-in rules',
    },
    config: CONFIG_OPTION,
  },
} as const satisfies CommandSpec;

export const TOPICS_COMMAND = {
  name: 'topics',
  action: 'ensure',
  summary: 'create the Kafka topics (topics ensure) and report drift',
  description: `Creates the events, dead-letter, alerts (JSON and <AUDIT_ALERTS_TOPIC>.ocsf), export requests and export results topics,
the SIEM feed topics <AUDIT_TOPIC>.<format> of AUDIT_SIEM_FEED_FORMATS and the monitor's keyed topic <AUDIT_TOPIC>.monitor (as many partitions
as the events topic, retention AUDIT_MONITOR_RETENTION_MS) that are missing, with settings fit for an audit log (AUDIT_TOPIC_PARTITIONS,
AUDIT_TOPIC_REPLICATION, AUDIT_TOPIC_MIN_INSYNC, AUDIT_TOPIC_RETENTION_MS). Existing topics are not changed: differences are reported as drift
and the exit code is then 3.`,
  options: { config: CONFIG_OPTION },
} as const satisfies CommandSpec;

export const KEYS_COMMAND = {
  name: 'keys',
  action: 'generate',
  summary: 'make an Ed25519 key pair for signing digests (keys generate)',
  description: `Writes a new Ed25519 key pair: DIR/audit-signing.key (private, mode 600; give it to
the archiver as AUDIT_SIGNING_KEY_FILE) and DIR/audit-signing.pub (public; give it to verify as
AUDIT_VERIFY_KEY_FILE).`,
  options: {
    out: { type: 'string', value: 'DIR', required: true, doc: 'folder of the two key files' },
    force: { type: 'boolean', default: false, doc: 'replace key files that exist' },
  },
} as const satisfies CommandSpec;

export const VERIFY_COMMAND = {
  name: 'verify',
  summary: 'check digests and objects; name every object modified, missing or reordered',
  description: `Checks the archive (AUDIT_ARCHIVE_STORE): every digest's signature with
AUDIT_VERIFY_KEY_FILE and its link to the previous digest, the SHA-256 of every object a digest
lists, offset continuity and the hash chain between objects. Every key under the prefix must be
an archive object, a digest or a claim (else: foreign); the partitions must be those of the
events topic (read from Kafka with the kafka transport, partition 0 of the embedded pipeline, or
--partitions N), each with a valid digest that ended less than the grace period ago. Objects
newer than the last digest are reported as pending within the grace period and fail after it.

Prints a report naming every problem and an anchor line per partition; exits with 1 if there is
any problem.`,
  options: {
    from: {
      type: 'string',
      value: 'ISO',
      doc: 'only digests whose interval ends after this time',
    },
    to: {
      type: 'string',
      value: 'ISO',
      doc: 'only digests whose interval starts before this time',
    },
    archive: {
      type: 'string',
      value: 'DIR',
      doc: 'check this local folder, whatever the archive store',
    },
    partitions: {
      type: 'string',
      value: 'N',
      doc: 'the events topic has N partitions (instead of asking Kafka)',
    },
    grace: {
      type: 'string',
      value: 'MS',
      doc: 'how old the newest digest may be (default $AUDIT_VERIFY_GRACE_MS or two digest intervals and ten minutes)',
    },
    anchor: {
      type: 'string',
      value: 'FILE',
      doc: 'the newest digests of the previous run must still be in the chains (no rollback); after a run without problems FILE (mode 600) is replaced with the newest digests; an absent FILE is created (trust on first use)',
    },
    config: CONFIG_OPTION,
  },
} as const satisfies CommandSpec;

export const SERVE_COMMAND = {
  name: 'serve',
  summary: 'serve exports over HTTP to holders of a bearer token',
  description: `Serves the archive store over HTTP (docs/http.md): GET /v1/events streams a direct
export, POST /v1/exports asks the exporter group for one (with KAFKA_BROKERS), GET /v1/exports/ID
and /v1/exports/ID/content give its status and content. Every request but GET /healthz needs a
token of AUDIT_HTTP_TOKENS_FILE (audit-trail tokens add NAME). Listens on 127.0.0.1:8080 unless
told otherwise; HTTPS with AUDIT_HTTP_TLS_CERT and AUDIT_HTTP_TLS_KEY. Prints the URL, runs until
SIGTERM or SIGINT.`,
  options: {
    port: {
      type: 'string',
      value: 'P',
      fallback: 8080,
      doc: 'port (as AUDIT_HTTP_PORT; 0: any free port)',
    },
    host: {
      type: 'string',
      value: 'H',
      fallback: '127.0.0.1',
      doc: 'address to listen on (as AUDIT_HTTP_HOST)',
    },
    config: CONFIG_OPTION,
  },
} as const satisfies CommandSpec;

export const TOKENS_COMMAND = {
  name: 'tokens',
  action: 'add NAME | list | revoke NAME',
  summary: 'manage the bearer tokens of serve (tokens add NAME, list, revoke NAME)',
  description: `Keeps the tokens file (AUDIT_HTTP_TOKENS_FILE, or --file): one line per token,
its name and the SHA-256 of the token. "add NAME" makes a random token, prints it once on
stdout (it is not stored anywhere) and adds its hash (the file is created with mode 600);
"list" prints the names; "revoke NAME" removes a token. A running serve reads the file again
when it changes.`,
  options: {
    file: {
      type: 'string',
      value: 'FILE',
      doc: 'the tokens file (default $AUDIT_HTTP_TOKENS_FILE)',
    },
    config: CONFIG_OPTION,
  },
} as const satisfies CommandSpec;
