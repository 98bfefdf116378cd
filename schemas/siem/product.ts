/**
 * Who writes the SIEM renderings: the vendor, product and version named in
 * OCSF's `metadata.product`, ECS's `event.provider` and CEF's header. The
 * version is that of package.json (a unit test keeps them equal); it is a
 * constant so that the renderers stay pure.
 */
export const SIEM_PRODUCT = {
  vendor: 'audit-trail',
  name: 'audit-trail',
  version: '0.1.0',
} as const;
