/** Writes the settings tables of docs/configuration.md from cli/settings.ts (`npm run docs:settings`). */
import { readFileSync, writeFileSync } from 'node:fs';
import { withSettingsTables } from '../cli/settings-doc.js';

const path = new URL('../../docs/configuration.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = withSettingsTables(before);
if (after !== before) writeFileSync(path, after);
process.stdout.write(`docs/configuration.md ${after === before ? 'is up to date' : 'updated'}\n`);
