/** Help texts of the `audit-trail` command. */
export const MAIN_HELP = `audit-trail: a tamper-evident audit trail of package-manager security operations

Usage: audit-trail <command> [options]

Commands:
  demo      simulate installers, run the embedded pipeline end to end, write JSON and CSV
  emit      record one event through the configured transport
  produce   record events from an NDJSON file through the configured transport
  archive   move events from the local spool into the archive
  export    render archived events as JSON, NDJSON or CSV
  topics    create the Kafka topics (topics ensure) and report drift
  keys      make an Ed25519 key pair for signing digests (keys generate)
  verify    check digests and objects; name every object modified, missing or reordered

Options:
  -h, --help     show help (also: audit-trail <command> --help)
  -v, --version  show the version

Settings (environment variables, or NAME=value lines in the file --config FILE
or AUDIT_CONFIG names; the environment wins):
  AUDIT_TRANSPORT      local (default) or kafka
  AUDIT_SPOOL_DIR      spool folder of this process (default ./audit-data/spool)
  AUDIT_ARCHIVE_DIR    local archive folder (default ./audit-data/archive)
  AUDIT_ARCHIVE_PREFIX key prefix of archive objects (default events)
  AUDIT_SOURCE         source of events that name none (default: the host name)
  AUDIT_TOPIC          events topic (default audit.events); AUDIT_DLQ_TOPIC, AUDIT_ALERTS_TOPIC
  KAFKA_BROKERS        host:port[,host:port...] (required for kafka)
  KAFKA_TLS, KAFKA_TLS_CA_FILE, KAFKA_TLS_CERT_FILE, KAFKA_TLS_KEY_FILE
  KAFKA_SASL_MECHANISM (plain, scram-sha-256, scram-sha-512), KAFKA_SASL_USERNAME,
  KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE
  AUDIT_LOG_LEVEL      log level on stderr: debug, info, warn, error, silent (default warn)
See docs/configuration.md for every setting.
`;

export const DEMO_HELP = `Usage: audit-trail demo [--events N] [--out DIR] [--seed S]

Simulates installers on several hosts emitting a realistic mix of all seven
event types, runs the embedded pipeline (spool -> archiver -> archive -> exporter)
and writes DIR/audit-trail.json and DIR/audit-trail.csv. No server is needed.
DIR/spool and DIR/archive are the demo's own and are emptied first.

Options:
  --events N   number of events (default 10000)
  --out DIR    output folder (default ./audit-demo)
  --seed S     seed of the simulation (default 1)
`;

export const EXPORT_HELP = `Usage: audit-trail export --format json|ndjson|csv [filters] [--out FILE] [--archive DIR] [--config FILE]

Reads the local archive and renders the events that match every filter given.
Writes to stdout unless --out is given (a file is replaced atomically).

Options:
  --format F     json (one array), ndjson (one object per line) or csv (required)
  --package NAME only events of this package
  --type TYPE    only events of this type (PackageInstall, PackageUninstall, PackageUpdate,
                 IntegrityCheck, VulnerabilityScan, RuntimeProtection, ConfigurationChange)
  --user U       only events of this user
  --from ISO     only events at or after this time (ISO-8601, e.g. 2026-01-31T00:00:00Z)
  --to ISO       only events before this time
  --out FILE     write to FILE instead of stdout
  --archive DIR  archive folder (default $AUDIT_ARCHIVE_DIR or ./audit-data/archive)
`;

export const ARCHIVE_HELP = `Usage: audit-trail archive [--once] [--spool DIR] [--archive DIR] [--config FILE]

Moves events from the local spool into archive objects (Avro container files with
a hash chain). Runs until SIGTERM or SIGINT, then writes the open batch; with
--once it drains what the spool holds and exits.

Options:
  --once         drain and exit
  --spool DIR    spool folder (default $AUDIT_SPOOL_DIR or ./audit-data/spool)
  --archive DIR  archive folder (default $AUDIT_ARCHIVE_DIR or ./audit-data/archive)
`;

export const EMIT_HELP = `Usage: audit-trail emit --type TYPE [--package NAME] [--version V] [--user U] [--ip IP]
                        [--source S] [--failure --error MSG] [--detail key=value ...]
                        [--wait MS] [--config FILE]

Records one event through the configured transport (AUDIT_TRANSPORT). With kafka it
waits up to --wait ms (default 30000) for the broker to acknowledge; an event not
acknowledged by then stays in the spool and is sent by the next run.

Options:
  --type TYPE        PackageInstall, PackageUninstall, PackageUpdate, IntegrityCheck,
                     VulnerabilityScan, RuntimeProtection or ConfigurationChange (required)
  --package NAME     package name (required for the three Package* types)
  --version V        package version
  --user U           user responsible
  --ip IP            IPv4 or IPv6 address
  --source S         emitting host or installer id (default $AUDIT_SOURCE or the host name)
  --failure          the operation failed; needs --error
  --error MSG        error message of a failure
  --detail key=value a detail; repeat for more
`;

export const PRODUCE_HELP = `Usage: audit-trail produce --from FILE.ndjson [--start-line N] [--wait MS] [--config FILE]

Records the events of an NDJSON file (one JSON object per line, fields named as in
the exports: event_type, package_name, package_version, user, ip_address, details,
success, error_message, source, and optionally id and timestamp) through the
configured transport, and prints how many were acknowledged. Bad lines are reported
with their number and skipped; the exit code is then 1. --from - reads stdin.
A failure of the spool or the broker (a full disk) stops the run at that line; the
events of the lines before it are recorded, and the summary names the line to go on
from: --start-line N skips the lines before N.
`;

export const TOPICS_HELP = `Usage: audit-trail topics ensure [--config FILE]

Creates the events, dead-letter and alerts topics that are missing, with settings
fit for an audit log (AUDIT_TOPIC_PARTITIONS, AUDIT_TOPIC_REPLICATION,
AUDIT_TOPIC_MIN_INSYNC, AUDIT_TOPIC_RETENTION_MS). Existing topics are not changed:
differences are reported as drift and the exit code is then 3.
`;

export const KEYS_HELP = `Usage: audit-trail keys generate --out DIR [--force]

Writes a new Ed25519 key pair: DIR/audit-signing.key (private, mode 600; give it to
the archiver as AUDIT_SIGNING_KEY_FILE) and DIR/audit-signing.pub (public; give it to
verify as AUDIT_VERIFY_KEY_FILE).
`;

export const VERIFY_HELP = `Usage: audit-trail verify [--from ISO] [--to ISO] [--archive DIR]
                          [--partitions N] [--grace MS] [--anchor FILE] [--config FILE]

Checks the archive (AUDIT_ARCHIVE_STORE): every digest's signature with
AUDIT_VERIFY_KEY_FILE and its link to the previous digest, the SHA-256 of every object
a digest lists, offset continuity and the hash chain between objects. Every key under
the prefix must be an archive object, a digest or a claim (else: foreign); the
partitions must be those of the events topic (read from Kafka with the kafka transport,
partition 0 of the embedded pipeline, or --partitions N), each with a valid digest that
ended less than the grace period ago (--grace, AUDIT_VERIFY_GRACE_MS; default two digest
intervals and ten minutes). Objects newer than the last digest are reported as pending
within the grace period and fail after it. --anchor FILE checks that the newest digests
of the previous run are still in the chains (no rollback), and after a run without
problems replaces FILE (mode 600) with the newest digests; an absent FILE is created
(trust on first use). Prints a report naming every problem and an anchor line per
partition; exits with 1 if there is any problem. --from and --to limit the digests
checked by their interval.
`;
