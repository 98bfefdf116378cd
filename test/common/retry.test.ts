import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuditError, AuditErrorCode } from '../../common/errors.js';
import { backoffDelay, retry } from '../../common/retry.js';

test('backoff grows exponentially up to the cap, with full jitter', () => {
  const options = { initialMs: 100, maxMs: 1000, factor: 2 };
  assert.deepEqual(
    [1, 2, 3, 4, 5, 9].map((a) => backoffDelay(a, options, () => 1)),
    [100, 200, 400, 800, 1000, 1000],
  );
  assert.equal(
    backoffDelay(3, options, () => 0),
    0,
  );
  assert.equal(
    backoffDelay(3, options, () => 0.5),
    200,
  );
});

test('retry succeeds after retriable failures', async () => {
  let calls = 0;
  const retried: number[] = [];
  const result = await retry(
    () => {
      calls++;
      if (calls < 3) throw new AuditError(AuditErrorCode.Unavailable, 'down', { retriable: true });
      return 'done';
    },
    { initialMs: 1, onRetry: (_e, attempt) => retried.push(attempt) },
  );
  assert.equal(result, 'done');
  assert.deepEqual(retried, [1, 2]);
});

test('a non-retriable error ends at once', async () => {
  let calls = 0;
  await assert.rejects(
    retry(() => {
      calls++;
      throw new AuditError(AuditErrorCode.InvalidField, 'bad');
    }),
    { code: AuditErrorCode.InvalidField, message: 'bad' },
  );
  assert.equal(calls, 1);
});

test('the final error tells the number of attempts', async () => {
  await assert.rejects(
    retry(
      () => {
        throw new AuditError(AuditErrorCode.Unavailable, 'still down', { retriable: true });
      },
      { attempts: 3, initialMs: 1 },
    ),
    { code: AuditErrorCode.Unavailable, message: 'gave up after 3 attempts: still down' },
  );
});
