/**
 * Writes the OCSF test fixture (test/schemas/fixtures/ocsf-<version>-classes.json)
 * from a git checkout of the published OCSF schema (github.com/ocsf/ocsf-schema):
 *
 *   node dist/scripts/ocsf-fixture.js <ocsf-schema checkout> <tag> <commit> > fixture.json
 *
 * The schema's sources define a class by `extends`, `$include` (includes/ and
 * profiles/) and its own attributes; this resolves them as the OCSF server
 * does, for the classes and objects the OCSF rendering uses, and keeps per
 * attribute the requirement, the type (from dictionary.json), whether it is an
 * array, the enum values and the profile it comes from. The files are read with
 * `git show <tag>:<path>`, so the checkout may be at any commit.
 */
import { execFileSync } from 'node:child_process';

type Json = Record<string, unknown>;

const CLASSES = [
  'application_lifecycle',
  'scan_activity',
  'datastore_activity',
  'vulnerability_finding',
  'detection_finding',
  'device_config_state_change',
];
const OBJECTS = [
  'metadata',
  'product',
  'finding_info',
  'vulnerability',
  'cve',
  'affected_package',
  'device',
  'actor',
  'user',
  'scan',
  'network_endpoint',
  'databucket',
  'related_event',
];

const [repo, tag, commit] = process.argv.slice(2);
if (repo === undefined || tag === undefined || commit === undefined) {
  process.stderr.write(
    'usage: node dist/scripts/ocsf-fixture.js <ocsf-schema checkout> <tag> <commit>\n',
  );
  process.exit(2);
}

function read(path: string): Json {
  const text = execFileSync('git', ['-C', repo!, 'show', `${tag}:${path}`], { encoding: 'utf8' });
  return JSON.parse(text) as Json;
}

function list(dir: string): string[] {
  const text = execFileSync('git', ['-C', repo!, 'ls-tree', '-r', '--name-only', tag!, dir], {
    encoding: 'utf8',
  });
  return text.split('\n').filter((p) => p.endsWith('.json'));
}

const dictionary = read('dictionary.json') as {
  attributes: Record<string, Json>;
  types: { attributes: Record<string, Json> };
};
const categories = (
  read('categories.json') as { attributes: Record<string, { uid: number; caption: string }> }
).attributes;
const events = new Map<string, { path: string; def: Json }>();
for (const path of list('events')) {
  const def = read(path);
  if (typeof def['name'] === 'string') events.set(def['name'], { path, def });
}
const objectFiles = new Map<string, { path: string; def: Json }>();
for (const path of list('objects')) {
  const def = read(path);
  if (typeof def['name'] === 'string') objectFiles.set(def['name'], { path, def });
}

interface Attribute {
  requirement: string;
  type: string;
  base_type: string;
  object_type?: string;
  is_array: boolean;
  enum?: Record<string, string>;
  profile?: string;
}

/** Attributes of a definition: its includes (a profile's attributes are marked with the profile), then its own. */
function ownAttributes(def: Json, into: Map<string, Json>): void {
  const attributes = (def['attributes'] ?? {}) as Record<string, Json | string[]>;
  for (const include of (attributes['$include'] ?? []) as string[]) {
    const included = read(include);
    const profile = included['meta'] === 'profile' ? (included['name'] as string) : undefined;
    for (const [name, spec] of Object.entries(
      (included['attributes'] ?? {}) as Record<string, Json>,
    ))
      into.set(name, { ...into.get(name), ...spec, ...(profile === undefined ? {} : { profile }) });
  }
  for (const [name, spec] of Object.entries(attributes)) {
    if (name === '$include') continue;
    // an attribute the definition declares itself is the class's own, not the profile's any more
    const { profile: _profile, ...before } = into.get(name) ?? {};
    into.set(name, { ...before, ...(spec as Json) });
  }
}

function resolve(attrs: Map<string, Json>): Record<string, Attribute> {
  const out: Record<string, Attribute> = {};
  for (const name of [...attrs.keys()].sort()) {
    const spec = attrs.get(name)!;
    const dict = dictionary.attributes[name] ?? {};
    const type = (spec['type'] ?? dict['type']) as string;
    const known = dictionary.types.attributes[type];
    const enumSpec = (spec['enum'] ?? dict['enum']) as
      Record<string, { caption: string }> | undefined;
    const merged = enumSpec === undefined ? undefined : { ...(dict['enum'] ?? {}), ...enumSpec };
    out[name] = {
      requirement: (spec['requirement'] ?? 'optional') as string,
      type: known === undefined ? 'object_t' : type,
      base_type: known === undefined ? 'object_t' : ((known['type'] ?? type) as string),
      ...(known === undefined ? { object_type: type } : {}),
      is_array: (spec['is_array'] ?? dict['is_array'] ?? false) as boolean,
      ...(merged === undefined
        ? {}
        : {
            enum: Object.fromEntries(
              Object.entries(merged as Record<string, { caption: string }>).map(([k, v]) => [
                k,
                v.caption,
              ]),
            ),
          }),
      ...(typeof spec['profile'] === 'string' ? { profile: spec['profile'] } : {}),
    };
  }
  return out;
}

function classChain(name: string): Json[] {
  const entry = events.get(name);
  if (entry === undefined) throw new Error(`no event class ${name}`);
  const parent = entry.def['extends'];
  return [...(typeof parent === 'string' ? classChain(parent) : []), entry.def];
}

function objectChain(name: string): Json[] {
  const entry = objectFiles.get(name);
  if (entry === undefined) return [];
  const parent = entry.def['extends'];
  return [...(typeof parent === 'string' ? objectChain(parent) : []), entry.def];
}

/** As the OCSF server compiles a class: its class_uid and category_uid enums hold its own ids (the base event's hold 0). */
function classAttributes(
  attributes: Record<string, Attribute>,
  categoryUid: number,
  categoryCaption: string,
  own: Json,
): Record<string, Attribute> {
  const classUid = categoryUid * 1000 + (own['uid'] as number);
  return {
    ...attributes,
    category_uid: { ...attributes['category_uid']!, enum: { [categoryUid]: categoryCaption } },
    class_uid: { ...attributes['class_uid']!, enum: { [classUid]: own['caption'] as string } },
  };
}

const classes: Record<string, unknown> = {};
for (const name of CLASSES) {
  const chain = classChain(name);
  const attrs = new Map<string, Json>();
  for (const def of chain) ownAttributes(def, attrs);
  const own = chain[chain.length - 1]!;
  const category = [...chain].reverse().find((d) => typeof d['category'] === 'string')![
    'category'
  ] as string;
  const categoryUid = categories[category]!.uid;
  classes[name] = {
    caption: own['caption'],
    source: events.get(name)!.path,
    extends: chain.slice(0, -1).map((d) => d['name']),
    category,
    category_uid: categoryUid,
    class_uid: categoryUid * 1000 + (own['uid'] as number),
    profiles: [...new Set(chain.flatMap((d) => (d['profiles'] ?? []) as string[]))],
    constraints: own['constraints'] ?? {},
    attributes: classAttributes(resolve(attrs), categoryUid, categories[category]!.caption, own),
  };
}
const objects: Record<string, unknown> = {};
for (const name of OBJECTS) {
  const chain = objectChain(name);
  if (chain.length === 0) throw new Error(`no object ${name}`);
  const attrs = new Map<string, Json>();
  for (const def of chain) ownAttributes(def, attrs);
  const own = chain[chain.length - 1]!;
  objects[name] = {
    caption: own['caption'],
    source: objectFiles.get(name)!.path,
    constraints: own['constraints'] ?? {},
    attributes: resolve(attrs),
  };
}
const version = (read('version.json') as { version: string }).version;
process.stdout.write(
  JSON.stringify(
    {
      $comment:
        'Generated by scripts/ocsf-fixture.ts from the published OCSF schema sources; do not edit by hand.',
      source: {
        repository: 'https://github.com/ocsf/ocsf-schema',
        tag,
        commit,
        browse: `https://schema.ocsf.io/${version}/classes/`,
      },
      version,
      classes,
      objects,
    },
    null,
    1,
  ) + '\n',
);
