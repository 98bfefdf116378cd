import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { brokerVersion, localStack } from '../../bench/stack-status.js';
import { tempDir } from '../helpers.js';

/** Above Linux's largest pid_max (2^22): no process has it. */
const NO_SUCH_PID = 2 ** 22 + 1;

test('no .stack/env: the figures that need the stack are not measured, and the reason says how to start it', async (t) => {
  const stack = await tempDir(t);
  assert.deepEqual(await localStack(stack), {
    reason: `the local stack is not running (no ${join(stack, 'env')}): npm run stack:up`,
  });
  assert.equal(brokerVersion(stack), 'not running');
});

test('a pid file of a process that is gone, or of no pid, is a stack that is not running', async (t) => {
  const stack = await tempDir(t);
  await writeFile(
    join(stack, 'env'),
    'KAFKA_BROKERS=127.0.0.1:1\nS3_ENDPOINT=http://127.0.0.1:1\n',
  );
  await writeFile(join(stack, 'kafka.pid'), `${NO_SUCH_PID}\n`);
  assert.deepEqual(await localStack(stack), {
    reason: 'Kafka of the local stack is not running: npm run stack:up',
  });
  assert.equal(brokerVersion(stack), 'not running');
  await writeFile(join(stack, 'kafka.pid'), `${process.pid}\n`);
  await writeFile(join(stack, 's3proxy.pid'), 'not a pid\n');
  assert.deepEqual(await localStack(stack), {
    reason: 'S3Proxy of the local stack is not running: npm run stack:up',
  });
});

test('processes alive but the broker port refuses connections: the broker is named', async (t) => {
  const stack = await tempDir(t);
  // port 1 on loopback: nothing listens there for an unprivileged test, the connection is refused at once
  await writeFile(
    join(stack, 'env'),
    'KAFKA_BROKERS=127.0.0.1:1\nS3_ENDPOINT=http://127.0.0.1:1\n',
  );
  await writeFile(join(stack, 'kafka.pid'), `${process.pid}\n`);
  await writeFile(join(stack, 's3proxy.pid'), `${process.pid}\n`);
  assert.deepEqual(await localStack(stack), {
    reason: "the local stack's broker 127.0.0.1:1 does not answer",
  });
  await writeFile(join(stack, 'env'), 'S3_ENDPOINT=http://127.0.0.1:1\n');
  assert.deepEqual(await localStack(stack), {
    reason: "the local stack's broker (none in .stack/env) does not answer",
  });
});
