/**
 * An independent reader of OCSF events: checks one event against the published
 * OCSF 1.3.0 schema kept as a fixture (fixtures/ocsf-1.3.0-classes.json, see
 * fixtures/README.md): class, category, activity and type ids, every attribute
 * the class or an applied profile requires, no attribute the class does not
 * have, attribute types, enum values and captions, and the constraints.
 */
import { readFileSync } from 'node:fs';

interface Attribute {
  requirement: 'required' | 'recommended' | 'optional';
  type: string;
  base_type: string;
  object_type?: string;
  is_array: boolean;
  enum?: Record<string, string>;
  profile?: string;
}
interface Definition {
  caption: string;
  constraints: { at_least_one?: string[]; just_one?: string[] };
  attributes: Record<string, Attribute>;
}
interface ClassDefinition extends Definition {
  category_uid: number;
  class_uid: number;
  profiles: string[];
}
interface Fixture {
  version: string;
  source: { repository: string; tag: string; commit: string };
  classes: Record<string, ClassDefinition>;
  objects: Record<string, Definition>;
}

export const FIXTURE = JSON.parse(
  readFileSync(
    new URL('../../../test/schemas/fixtures/ocsf-1.3.0-classes.json', import.meta.url),
    'utf8',
  ),
) as Fixture;
const BY_UID = new Map(Object.values(FIXTURE.classes).map((c) => [c.class_uid, c]));

export type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Places where the rendering cannot meet a constraint, each with the reason (docs/siem.md says so too). */
function knownGap(path: string, object: string, constraint: string, value: Json): boolean {
  // our scans name CVE ids only when details.cve / details.cves hold them; OCSF wants a cve or cwe
  return (
    object === 'vulnerability' &&
    constraint === 'at_least_one' &&
    value['cve'] === undefined &&
    /vulnerabilities/u.test(path)
  );
}

/** Problems of `value` as an instance of the attributes `def`, with the profiles the event applies. */
function check(
  path: string,
  value: Json,
  def: Definition,
  objectName: string,
  profiles: string[],
  problems: string[],
): void {
  for (const [name, attribute] of Object.entries(def.attributes)) {
    if (attribute.requirement !== 'required') continue;
    if (attribute.profile !== undefined && !profiles.includes(attribute.profile)) continue;
    if (value[name] === undefined)
      problems.push(`${path}${name}: required by OCSF ${FIXTURE.version}, missing`);
  }
  for (const [kind, names] of Object.entries(def.constraints)) {
    const present = names.filter((n) => value[n] !== undefined).length;
    const ok = kind === 'at_least_one' ? present >= 1 : kind === 'just_one' ? present === 1 : true;
    if (!ok && !knownGap(path, objectName, kind, value))
      problems.push(`${path}: constraint ${kind} of ${names.join(', ')} not met`);
  }
  for (const [name, item] of Object.entries(value)) {
    const attribute = def.attributes[name];
    if (attribute === undefined) {
      problems.push(`${path}${name}: not an attribute of ${objectName} in OCSF ${FIXTURE.version}`);
      continue;
    }
    if (attribute.profile !== undefined && !profiles.includes(attribute.profile))
      problems.push(
        `${path}${name}: from profile ${attribute.profile}, which metadata.profiles does not name`,
      );
    if (attribute.is_array) {
      if (!Array.isArray(item)) problems.push(`${path}${name}: must be an array`);
      else
        item.forEach((element, i) =>
          checkValue(`${path}${name}[${i}]`, element, attribute, profiles, problems),
        );
    } else checkValue(`${path}${name}`, item, attribute, profiles, problems);
    // a caption beside an id (`type` beside `type_id`) must be the id's caption unless the id is Other
    if (name.endsWith('_id') && attribute.enum !== undefined) {
      const sibling = value[name.slice(0, -3)];
      const caption = attribute.enum[String(item)];
      if (sibling !== undefined && String(item) !== '99' && sibling !== caption)
        problems.push(
          `${path}${name.slice(0, -3)}: ${JSON.stringify(sibling)} is not the caption of ${name} ${String(item)} (${caption})`,
        );
    }
  }
}

function checkValue(
  path: string,
  item: unknown,
  attribute: Attribute,
  profiles: string[],
  problems: string[],
): void {
  switch (attribute.base_type) {
    case 'string_t':
      if (typeof item !== 'string') problems.push(`${path}: ${attribute.type} must be a string`);
      break;
    case 'integer_t':
    case 'long_t':
      if (!Number.isSafeInteger(item))
        problems.push(`${path}: ${attribute.type} must be an integer`);
      break;
    case 'boolean_t':
      if (typeof item !== 'boolean') problems.push(`${path}: must be a boolean`);
      break;
    case 'object_t': {
      if (!isObject(item)) {
        problems.push(`${path}: must be an object`);
        break;
      }
      const objectType = attribute.object_type ?? '';
      if (objectType === 'object') break; // `unmapped`: any object
      const def = FIXTURE.objects[objectType];
      if (def === undefined) problems.push(`${path}: object ${objectType} is not in the fixture`);
      else check(`${path}.`, item, def, objectType, profiles, problems);
      break;
    }
    default:
      problems.push(
        `${path}: type ${attribute.type} (${attribute.base_type}) not checked by this test`,
      );
  }
  if (attribute.enum !== undefined && !Object.hasOwn(attribute.enum, String(item)))
    problems.push(
      `${path}: ${String(item)} is not one of ${Object.keys(attribute.enum).join(', ')}`,
    );
}

/** Every problem of one OCSF event against the fixture; [] when it conforms. */
export function validateOcsf(event: Json): string[] {
  const problems: string[] = [];
  const cls = BY_UID.get(event['class_uid'] as number);
  if (cls === undefined)
    return [`class_uid ${String(event['class_uid'])} is not a class the fixture holds`];
  const metadata = isObject(event['metadata']) ? event['metadata'] : {};
  const profiles = (metadata['profiles'] ?? []) as string[];
  for (const profile of profiles)
    if (!cls.profiles.includes(profile))
      problems.push(`metadata.profiles: ${cls.caption} has no profile ${profile}`);
  if (event['category_uid'] !== cls.category_uid)
    problems.push(`category_uid ${String(event['category_uid'])} != ${cls.category_uid}`);
  if (event['type_uid'] !== cls.class_uid * 100 + (event['activity_id'] as number))
    problems.push('type_uid != class_uid * 100 + activity_id');
  const category = cls.attributes['category_uid']?.enum?.[String(cls.category_uid)];
  if (event['category_name'] !== category)
    problems.push(`category_name ${String(event['category_name'])} != ${category}`);
  if (event['class_name'] !== cls.caption)
    problems.push(`class_name ${String(event['class_name'])} != ${cls.caption}`);
  const activity = cls.attributes['activity_id']?.enum?.[String(event['activity_id'])];
  if (event['type_name'] !== `${cls.caption}: ${activity}`)
    problems.push(`type_name ${String(event['type_name'])}`);
  if (metadata['version'] !== FIXTURE.version)
    problems.push(`metadata.version ${String(metadata['version'])} != ${FIXTURE.version}`);
  check('', event, cls, cls.caption, profiles, problems);
  return problems;
}
