import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readConfigFile } from '../../cli/config.js';
import { tempDir } from '../helpers.js';

test('a malformed config line is named by file, line and setting, never by its value', async (t) => {
  const dir = await tempDir(t);
  for (const line of [
    'AWS_SECRET_ACCESS_KEY = s3cr3t-value',
    'KAFKA_SASL_PASSWORD: s3cr3t-value',
    's3cr3t-value',
  ]) {
    const path = join(dir, 'bad.env');
    writeFileSync(path, `# settings\nAUDIT_TRANSPORT=kafka\n${line}\n`);
    assert.throws(
      () => readConfigFile(path),
      (error: Error) => {
        assert.match(error.message, /bad\.env:3/);
        assert.doesNotMatch(error.message, /s3cr3t/);
        return true;
      },
    );
  }
});
