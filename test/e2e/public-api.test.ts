/**
 * The package as a user gets it: `npm pack`, installed into a scratch project.
 * Every TypeScript example in README.md and docs/ compiles against the
 * installed package (so every symbol they import exists, with its type), every
 * value they import is there at run time, and the README's example runs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

interface DocExample {
  /** README or docs/<page>, as a file name */
  name: string;
  code: string;
}

function examples(): DocExample[] {
  const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).map((page) => `docs/${page}`)];
  return pages.flatMap((page) => {
    const blocks = [
      ...readFileSync(join(ROOT, page), 'utf8').matchAll(/^```ts\n([\s\S]*?)^```$/gm),
    ];
    if (blocks.length === 0) return [];
    // the blocks of one page form one program: later ones use what earlier ones declared
    const code = blocks.map((block) => block[1]).join('\n');
    return [{ name: page.replace(/\//g, '-').replace(/\.md$/, ''), code }];
  });
}

/** `{ A, type B, C as D }` from 'audit-trail…' → the value names per module. */
function importedValues(code: string): Map<string, string[]> {
  const byModule = new Map<string, string[]>();
  for (const [, names = '', module = ''] of code.matchAll(
    /^import\s+\{([^}]*)\}\s+from\s+'(audit-trail(?:\/[a-z0-9-]+)?)';/gm,
  )) {
    const values = names
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '' && !name.startsWith('type '))
      .map((name) => name.split(/\s+as\s+/)[0] ?? name);
    byModule.set(module, [...(byModule.get(module) ?? []), ...values]);
  }
  return byModule;
}

test('the packed package serves every symbol the docs import, their examples compile, and the README example runs', async (t) => {
  const docs = examples();
  assert.ok(
    docs.some((doc) => doc.name === 'README'),
    'README.md has TypeScript examples',
  );
  assert.ok(
    docs.some((doc) => doc.name === 'docs-kafka'),
    'docs/kafka.md has a TypeScript example',
  );

  const scratch = await tempDir(t, 'audit-trail-pack-');
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], {
      cwd: ROOT,
      encoding: 'utf8',
    }),
  ) as { filename: string; files: { path: string }[] }[];
  const tarball = packed[0];
  assert.ok(tarball !== undefined);
  const shipped = tarball.files.map((file) => file.path);
  assert.ok(shipped.includes('schemas/audit-event.avsc'));
  for (const dev of ['dist/test/', 'dist/bench/', 'dist/scripts/']) {
    assert.deepEqual(
      shipped.filter((path) => path.startsWith(dev)),
      [],
      `${dev} is not in the package`,
    );
  }

  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  execFileSync(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      join(scratch, tarball.filename),
    ],
    { cwd: scratch, stdio: ['ignore', 'ignore', 'inherit'] },
  );

  for (const doc of docs) writeFileSync(join(scratch, `${doc.name}.ts`), doc.code);
  writeFileSync(
    join(scratch, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
        outDir: 'out',
      },
      include: docs.map((doc) => `${doc.name}.ts`),
    }),
  );
  try {
    execFileSync(process.execPath, [TSC, '-p', scratch], { cwd: scratch, encoding: 'utf8' });
  } catch (error) {
    assert.fail(
      `the docs' examples do not compile against the package:\n${(error as { stdout: string }).stdout}`,
    );
  }

  for (const doc of docs) {
    for (const [module, names] of importedValues(doc.code)) {
      const resolved = execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `console.log(import.meta.resolve(${JSON.stringify(module)}))`,
        ],
        { cwd: scratch, encoding: 'utf8' },
      ).trim();
      const exports = (await import(resolved)) as Record<string, unknown>;
      for (const name of names) {
        assert.notEqual(exports[name], undefined, `${doc.name} imports ${name} from ${module}`);
      }
    }
  }

  // the examples that need no server, as a user runs them: the README's in memory, exports in the
  // current folder; the archive's from events to a verified archive
  execFileSync(process.execPath, [join(scratch, 'out', 'README.js')], {
    cwd: scratch,
    encoding: 'utf8',
  });
  const exported = JSON.parse(readFileSync(join(scratch, 'audit-trail.json'), 'utf8')) as unknown[];
  assert.equal(exported.length, 1);
  assert.match(readFileSync(join(scratch, 'audit-trail.csv'), 'utf8'), /package-name/);
  const archived = execFileSync(process.execPath, [join(scratch, 'out', 'docs-archive.js')], {
    cwd: scratch,
    encoding: 'utf8',
  });
  // the README's example put one event in the spool, the archive's one more
  assert.match(archived, /^2 events in 1 objects$/m);
});
