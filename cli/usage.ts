/** Help texts of the `audit-trail` command. */
export const MAIN_HELP = `audit-trail: a tamper-evident audit trail of package-manager security operations

Usage: audit-trail <command> [options]

Commands:
  demo      simulate installers, run the embedded pipeline end to end, write JSON and CSV
  archive   move events from the local spool into the archive
  export    render archived events as JSON, NDJSON or CSV

Options:
  -h, --help     show help (also: audit-trail <command> --help)
  -v, --version  show the version

Environment:
  AUDIT_SPOOL_DIR     local spool folder        (default ./audit-data/spool)
  AUDIT_ARCHIVE_DIR   local archive folder      (default ./audit-data/archive)
  AUDIT_ARCHIVE_PREFIX key prefix of archive objects (default events)
  AUDIT_LOG_LEVEL     log level on stderr: debug, info, warn, error, silent (default warn)
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

export const EXPORT_HELP = `Usage: audit-trail export --format json|ndjson|csv [filters] [--out FILE] [--archive DIR]

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

export const ARCHIVE_HELP = `Usage: audit-trail archive [--once] [--spool DIR] [--archive DIR]

Moves events from the local spool into archive objects (Avro container files with
a hash chain). Runs until SIGTERM or SIGINT, then writes the open batch; with
--once it drains what the spool holds and exits.

Options:
  --once         drain and exit
  --spool DIR    spool folder (default $AUDIT_SPOOL_DIR or ./audit-data/spool)
  --archive DIR  archive folder (default $AUDIT_ARCHIVE_DIR or ./audit-data/archive)
`;
