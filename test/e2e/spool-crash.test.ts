/** The spool's durability promise against a writer killed with SIGKILL in a separate process. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { Spool } from '../../common/spool/spool.js';
import { readSpool, tempDir } from '../helpers.js';

test('records acknowledged by flush() survive kill -9 of the writer', async (t) => {
  const dir = await tempDir(t);
  const spoolModule = new URL('../../common/spool/spool.js', import.meta.url).href;
  // The child appends without pause and prints the count each time flush() resolves.
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { Spool } from ${JSON.stringify(spoolModule)};
       const spool = new Spool({ dir: ${JSON.stringify(dir)}, segmentBytes: 256 * 1024 });
       let i = 0;
       for (;;) {
         for (let k = 0; k < 500; k++, i++) spool.append(Buffer.from('event-' + i));
         await spool.flush();
         process.stdout.write(i + '\\n');
       }`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let acknowledged = 0;
  for await (const line of createInterface({ input: child.stdout })) {
    acknowledged = Number(line);
    if (acknowledged >= 20_000) break;
  }
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));

  const reopened = new Spool({ dir });
  await reopened.close();
  const records = await readSpool(dir);
  assert.ok(
    records.length >= acknowledged,
    `${records.length} records survived, ${acknowledged} were acknowledged`,
  );
  records.forEach((r, i) => {
    assert.equal(r.offset, i);
    assert.equal(r.value, `event-${i}`);
  });
});
