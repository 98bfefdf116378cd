/** The kinds of security-relevant operation an audit event records. */
export const AuditEventType = {
  PackageInstall: 'PackageInstall',
  PackageUninstall: 'PackageUninstall',
  PackageUpdate: 'PackageUpdate',
  IntegrityCheck: 'IntegrityCheck',
  VulnerabilityScan: 'VulnerabilityScan',
  RuntimeProtection: 'RuntimeProtection',
  ConfigurationChange: 'ConfigurationChange',
} as const;

export type AuditEventType = (typeof AuditEventType)[keyof typeof AuditEventType];

export const AUDIT_EVENT_TYPES: readonly AuditEventType[] = Object.values(AuditEventType);

export function isAuditEventType(value: unknown): value is AuditEventType {
  return typeof value === 'string' && (AUDIT_EVENT_TYPES as readonly string[]).includes(value);
}

/** Types that are about one package and so require `package_name`. */
export const PACKAGE_EVENT_TYPES: ReadonlySet<AuditEventType> = new Set([
  AuditEventType.PackageInstall,
  AuditEventType.PackageUninstall,
  AuditEventType.PackageUpdate,
]);
