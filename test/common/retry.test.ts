import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuditError, AuditErrorCode } from '../../common/errors.js';
import { backoffDelay, RETRY_POLICIES, retry } from '../../common/retry.js';

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

/** A clock that moves only when the retrier sleeps; records every wait. */
function fakeClock(start = 1_000_000) {
  let now = start;
  const waits: number[] = [];
  return {
    waits,
    clock: {
      now: () => now,
      sleep: async (ms: number) => {
        waits.push(ms);
        now += ms;
      },
    },
  };
}

function down(): never {
  throw new AuditError(AuditErrorCode.Unavailable, 'down', { retriable: true });
}

test('waits stay within the policy bounds, on the injected clock and randomness', async () => {
  const policy = { initialMs: 200, maxMs: 5000, factor: 2, attempts: 10 };
  for (const [random, expected] of [
    [() => 1, [200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000]],
    [() => 0, [0, 0, 0, 0, 0, 0, 0, 0, 0]],
  ] as const) {
    const { clock, waits } = fakeClock();
    await assert.rejects(retry(down, { policy, clock, random }), {
      code: AuditErrorCode.Unavailable,
      message: 'gave up after 10 attempts: down',
    });
    assert.deepEqual(waits, expected);
  }
});

test('every named policy has bounded waits', () => {
  for (const [name, policy] of Object.entries(RETRY_POLICIES)) {
    assert.ok(policy.initialMs > 0 && policy.initialMs <= policy.maxMs, name);
    assert.ok(policy.maxMs <= 10_000, `${name} waits at most 10 s`);
    assert.ok(policy.attempts >= 1, name);
  }
});

test('the deadline ends the retries with TIMEOUT before a wait that would pass it', async () => {
  const { clock, waits } = fakeClock(0);
  let calls = 0;
  await assert.rejects(
    retry(
      () => {
        calls++;
        down();
      },
      { policy: RETRY_POLICIES.backpressure, deadline: 500, clock, random: () => 1 },
    ),
    (error: AuditError) => {
      assert.equal(error.code, AuditErrorCode.Timeout);
      assert.equal(error.retriable, true);
      assert.equal((error.cause as AuditError).message, 'down');
      return true;
    },
  );
  // 20 + 40 + 80 + 160 = 300 ms waited; the next wait (320) would end at 620 > 500
  assert.deepEqual(waits, [20, 40, 80, 160]);
  assert.equal(calls, 5);
});

test('an abort during a wait ends the retries at once, with no further attempt', async () => {
  const stop = new AbortController();
  let calls = 0;
  const clock = {
    now: () => 0,
    sleep: async () => stop.abort(), // the stop arrives while waiting
  };
  await assert.rejects(
    retry(
      () => {
        calls++;
        down();
      },
      { attempts: Infinity, signal: stop.signal, clock },
    ),
    { code: AuditErrorCode.Unavailable, message: 'down' },
  );
  assert.equal(calls, 1);
});

test('an abort during an attempt ends the retries with its error, without waiting', async () => {
  const stop = new AbortController();
  const { clock, waits } = fakeClock();
  let calls = 0;
  await assert.rejects(
    retry(
      () => {
        calls++;
        stop.abort();
        down();
      },
      { attempts: Infinity, signal: stop.signal, clock },
    ),
    { message: 'down' },
  );
  assert.equal(calls, 1);
  assert.deepEqual(waits, []);
});

test('an aborted signal runs no attempt at all', async () => {
  const stop = new AbortController();
  stop.abort(new Error('stopping'));
  let calls = 0;
  await assert.rejects(
    retry(() => calls++, { signal: stop.signal }),
    { message: 'stopping' },
  );
  assert.equal(calls, 0);
});

test('a non-retriable error stops at once, without waiting', async () => {
  const { clock, waits } = fakeClock();
  let calls = 0;
  await assert.rejects(
    retry(
      (attempt) => {
        calls++;
        if (attempt === 1) down();
        throw new AuditError(AuditErrorCode.AuthFailed, 'refused');
      },
      { policy: RETRY_POLICIES.connect, clock },
    ),
    { code: AuditErrorCode.AuthFailed, message: 'refused' },
  );
  assert.equal(calls, 2);
  assert.equal(waits.length, 1);
});

test('onRetry sees each error, attempt and wait before it happens', async () => {
  const { clock, waits } = fakeClock();
  const seen: [string, number, number][] = [];
  const result = await retry((attempt) => (attempt < 3 ? down() : 'ok'), {
    policy: RETRY_POLICIES.s3Request,
    clock,
    random: () => 0.5,
    onRetry: (error, attempt, delay) => seen.push([(error as Error).message, attempt, delay]),
  });
  assert.equal(result, 'ok');
  assert.deepEqual(seen, [
    ['down', 1, 50],
    ['down', 2, 100],
  ]);
  assert.deepEqual(waits, [50, 100]);
});
