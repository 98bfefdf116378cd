/** Refusals by the group coordinator that mean a member's generation is over, not that Kafka failed. */

const MEMBERSHIP_LOST = new Set([
  'REBALANCE_IN_PROGRESS',
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'FENCED_INSTANCE_ID',
]);

/** The kafkajs error type of `error`, or of what caused it, when it is such a refusal. */
export function membershipLostType(error: unknown): string | undefined {
  for (let e = error as { type?: string; cause?: unknown } | undefined; e;) {
    if (e.type !== undefined && MEMBERSHIP_LOST.has(e.type)) return e.type;
    e = e.cause as typeof e;
  }
  return undefined;
}

/**
 * Runs `request` (a commit, a heartbeat); resolves with the refusal's type when
 * the coordinator refused it because the member lost its assignment, undefined
 * when it succeeded. Any other failure is thrown.
 */
export async function refusedForLostMembership(
  request: () => Promise<void>,
): Promise<string | undefined> {
  try {
    await request();
    return undefined;
  } catch (error) {
    const type = (error as { type?: string }).type;
    if (type === undefined || !MEMBERSHIP_LOST.has(type)) throw error;
    return type;
  }
}
