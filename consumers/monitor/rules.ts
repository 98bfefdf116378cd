/**
 * The monitor's detection rules: their ids, their settings with defaults, and
 * the rules file that overrides them. A rules file is one JSON object
 * `{ "rules": { "<rule id>": { "<field>": value, ... }, ... } }`; what it names
 * replaces the default, everything else keeps it. A mistake is a ConfigError
 * naming the file and the field (`monitor-rules.json: rules.failure-burst.threshold`).
 * The rules and the format are in docs/monitor.md.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../common/errors.js';
import { ALERT_SEVERITIES, type AlertSeverity, isAlertSeverity } from '../../schemas/alert.js';

export const MONITOR_RULE_IDS = [
  'integrity-failures-package',
  'integrity-failures-source',
  'install-after-vulnerable-scan',
  'protection-disabled',
  'new-ip-for-user',
  'failure-burst',
  'runtime-block-rate',
] as const;
export type MonitorRuleId = (typeof MONITOR_RULE_IDS)[number];

export function isMonitorRuleId(value: unknown): value is MonitorRuleId {
  return typeof value === 'string' && (MONITOR_RULE_IDS as readonly string[]).includes(value);
}

interface RuleBase {
  /** A disabled rule keeps no state and raises nothing; the router sends it nothing. */
  enabled: boolean;
  /** The severity of the rule's alerts. */
  severity: AlertSeverity;
}

/** Fires when `threshold` matching events of one key lie within `windowSeconds` of event time. */
export interface CountRule extends RuleBase {
  threshold: number;
  windowSeconds: number;
  /** After an alert, none again for the key until this much event time has passed (default: the window). */
  cooldownSeconds: number;
}

export interface VulnerableInstallRule extends RuleBase {
  /** How long before an install a scan still counts. */
  windowSeconds: number;
  /** After an alert for a package version, none again for that version until this much event time has passed. */
  cooldownSeconds: number;
  /** `details.max_severity` words (case-insensitive) that make a scan vulnerable. */
  scanSeverities: string[];
}

export interface ProtectionDisabledRule extends RuleBase {
  /** `details.setting` names (case-insensitive) that switch a protection on or off. */
  settings: string[];
  /** `details.new_value` words (case-insensitive) that mean off. */
  offValues: string[];
}

export interface NewIpRule extends RuleBase {
  /** How long an address stays known for a user after it was last seen with them. */
  windowSeconds: number;
  /** Most addresses kept per user; beyond it the least recently seen is forgotten. */
  maxIpsPerUser: number;
}

export interface MonitorRules {
  'integrity-failures-package': CountRule;
  'integrity-failures-source': CountRule;
  'install-after-vulnerable-scan': VulnerableInstallRule;
  'protection-disabled': ProtectionDisabledRule;
  'new-ip-for-user': NewIpRule;
  'failure-burst': CountRule;
  'runtime-block-rate': CountRule;
}

const MINUTE = 60;
const DAY = 24 * 60 * MINUTE;

export const DEFAULT_MONITOR_RULES = {
  'integrity-failures-package': {
    enabled: true,
    severity: 'high',
    threshold: 3,
    windowSeconds: 10 * MINUTE,
    cooldownSeconds: 10 * MINUTE,
  },
  'integrity-failures-source': {
    enabled: true,
    severity: 'high',
    threshold: 5,
    windowSeconds: 10 * MINUTE,
    cooldownSeconds: 10 * MINUTE,
  },
  'install-after-vulnerable-scan': {
    enabled: true,
    // the least severity: a critical scan raises a critical alert
    severity: 'high',
    windowSeconds: 30 * DAY,
    cooldownSeconds: DAY,
    scanSeverities: ['critical', 'high'],
  },
  'protection-disabled': {
    enabled: true,
    severity: 'critical',
    settings: [
      'integrity-check',
      'integrity.enabled',
      'integrity.policy',
      'runtime-protection',
      'runtime_protection.enabled',
      'runtime.sandbox',
      'audit',
      'audit.enabled',
      'audit.level',
    ],
    offValues: ['false', 'off', 'disabled', '0', 'no', 'none'],
  },
  'new-ip-for-user': {
    enabled: true,
    severity: 'medium',
    windowSeconds: 30 * DAY,
    maxIpsPerUser: 1000,
  },
  'failure-burst': {
    enabled: true,
    severity: 'medium',
    threshold: 20,
    windowSeconds: MINUTE,
    cooldownSeconds: MINUTE,
  },
  'runtime-block-rate': {
    enabled: true,
    severity: 'high',
    threshold: 10,
    windowSeconds: MINUTE,
    cooldownSeconds: MINUTE,
  },
} satisfies MonitorRules;

type FieldKind = 'boolean' | 'severity' | 'positive' | 'words';

const BASE_FIELDS = { enabled: 'boolean', severity: 'severity' } as const;
const COUNT_FIELDS = {
  ...BASE_FIELDS,
  threshold: 'positive',
  windowSeconds: 'positive',
  cooldownSeconds: 'positive',
} as const;

/** The fields a rules file may set for each rule, with what each must be. */
const RULE_FIELDS: { [R in MonitorRuleId]: { [F in keyof MonitorRules[R]]: FieldKind } } = {
  'integrity-failures-package': COUNT_FIELDS,
  'integrity-failures-source': COUNT_FIELDS,
  'install-after-vulnerable-scan': {
    ...BASE_FIELDS,
    windowSeconds: 'positive',
    cooldownSeconds: 'positive',
    scanSeverities: 'words',
  },
  'protection-disabled': { ...BASE_FIELDS, settings: 'words', offValues: 'words' },
  'new-ip-for-user': { ...BASE_FIELDS, windowSeconds: 'positive', maxIpsPerUser: 'positive' },
  'failure-burst': COUNT_FIELDS,
  'runtime-block-rate': COUNT_FIELDS,
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkField(field: string, kind: FieldKind, value: unknown): unknown {
  switch (kind) {
    case 'boolean':
      if (typeof value !== 'boolean')
        throw new ConfigError(field, `must be true or false, got ${JSON.stringify(value)}`);
      return value;
    case 'severity':
      if (!isAlertSeverity(value))
        throw new ConfigError(
          field,
          `must be one of ${ALERT_SEVERITIES.join(', ')}, got ${JSON.stringify(value)}`,
        );
      return value;
    case 'positive':
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0)
        throw new ConfigError(
          field,
          `must be a positive whole number, got ${JSON.stringify(value)}`,
        );
      return value;
    case 'words':
      if (
        !Array.isArray(value) ||
        value.length === 0 ||
        !value.every((w) => typeof w === 'string' && w.trim() !== '')
      )
        throw new ConfigError(
          field,
          `must be a non-empty list of non-empty strings, got ${JSON.stringify(value)}`,
        );
      return [...(value as string[])];
  }
}

/** The defaults with what `override` (one rule's object of a rules file) names replaced. */
function mergeRule(
  origin: string,
  rule: MonitorRuleId,
  override: unknown,
): MonitorRules[MonitorRuleId] {
  const path = `${origin}: rules.${rule}`;
  if (!isObject(override))
    throw new ConfigError(path, `must be an object, got ${JSON.stringify(override)}`);
  const kinds = RULE_FIELDS[rule] as Record<string, FieldKind>;
  const merged: Record<string, unknown> = structuredClone(DEFAULT_MONITOR_RULES[rule]);
  for (const [field, value] of Object.entries(override)) {
    const kind = Object.hasOwn(kinds, field) ? kinds[field] : undefined;
    if (kind === undefined)
      throw new ConfigError(
        `${path}.${field}`,
        `is not a field of ${rule} (one of ${Object.keys(kinds).join(', ')})`,
      );
    merged[field] = checkField(`${path}.${field}`, kind, value);
  }
  // the cooldown follows a changed window unless the file sets it too
  if (
    Object.hasOwn(kinds, 'cooldownSeconds') &&
    rule !== 'install-after-vulnerable-scan' &&
    Object.hasOwn(override, 'windowSeconds') &&
    !Object.hasOwn(override, 'cooldownSeconds')
  )
    merged['cooldownSeconds'] = merged['windowSeconds'];
  return merged as unknown as MonitorRules[MonitorRuleId];
}

/** A fresh copy of the defaults (callers may not change DEFAULT_MONITOR_RULES through it). */
export function defaultMonitorRules(): MonitorRules {
  return structuredClone(DEFAULT_MONITOR_RULES);
}

/**
 * The rules of a rules file's JSON `text` (partial: what it names overrides
 * the defaults). `origin` names the file in errors. Throws a ConfigError
 * naming `<origin>: rules.<rule>.<field>` for an unknown rule or field, a value
 * of the wrong type, a window, threshold or cooldown that is not a positive
 * whole number, or an unknown severity.
 */
export function parseMonitorRules(text: string, origin: string): MonitorRules {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw new ConfigError(origin, `is not JSON: ${error.message}`);
  }
  if (!isObject(document))
    throw new ConfigError(origin, 'must hold one JSON object { "rules": { ... } }');
  for (const key of Object.keys(document))
    if (key !== 'rules') throw new ConfigError(`${origin}: ${key}`, 'is not a field (only rules)');
  const rules = defaultMonitorRules() as unknown as Record<MonitorRuleId, unknown>;
  const overrides = document['rules'] ?? {};
  if (!isObject(overrides))
    throw new ConfigError(
      `${origin}: rules`,
      `must be an object, got ${JSON.stringify(overrides)}`,
    );
  for (const [rule, override] of Object.entries(overrides)) {
    if (!isMonitorRuleId(rule))
      throw new ConfigError(
        `${origin}: rules.${rule}`,
        `is not a rule (one of ${MONITOR_RULE_IDS.join(', ')})`,
      );
    rules[rule] = mergeRule(origin, rule, override);
  }
  return rules as unknown as MonitorRules;
}

/** Reads and parses the rules file at `path`; a file that cannot be read is a ConfigError naming it. */
export async function loadMonitorRules(path: string): Promise<MonitorRules> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    // ENOENT, EACCES, EISDIR: whatever the file system says, the operator fixes the path
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(path, `cannot read the monitor rules file (${reason})`);
  }
  return parseMonitorRules(text, path);
}
