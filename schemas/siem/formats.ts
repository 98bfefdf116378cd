/**
 * The names of the SIEM formats, apart from their renderers: the command
 * line's help declares them without loading any rendering code.
 */
export const SIEM_FORMATS = ['ocsf', 'ecs', 'cef'] as const;
export type SiemFormat = (typeof SIEM_FORMATS)[number];

export function isSiemFormat(value: unknown): value is SiemFormat {
  return typeof value === 'string' && (SIEM_FORMATS as readonly string[]).includes(value);
}
