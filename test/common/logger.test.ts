import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cliLogger } from '../../common/logger.js';

test('secrets in log fields are redacted', () => {
  const lines: string[] = [];
  const logger = cliLogger('info', { write: (line: string) => void lines.push(line) });
  logger.info({ sasl: { mechanism: 'plain', username: 'u', password: 'hunter2' } }, 'connecting');
  logger.info(
    { kafka: { sasl: { password: 'hunter2' } }, s3: { secretAccessKey: 'AKIASECRET' } },
    'settings',
  );
  logger.warn(
    { password: 'hunter2', token: 'tok-123', key: '-----BEGIN PRIVATE KEY-----' },
    'flat',
  );
  const text = lines.join('');
  assert.equal(lines.length, 3);
  for (const secret of ['hunter2', 'AKIASECRET', 'tok-123', 'PRIVATE KEY'])
    assert.doesNotMatch(text, new RegExp(secret));
  assert.match(text, /\[redacted\]/);
});
