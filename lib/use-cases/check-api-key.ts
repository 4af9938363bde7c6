import { FatalRunError, TransientError } from '#lib/domain/errors.ts';
import type { Destination, ListRef } from '#lib/ports/destination.ts';

/** The longest wait for Autopilot during a key check, well inside the API function's own timeout. */
export const DEFAULT_KEY_CHECK_TIMEOUT_MS = 6_000;

/** Autopilot refused the key (or could not be asked); the message says which. */
export class KeyVerificationError extends Error {
  override readonly name = 'KeyVerificationError';
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

const LATE = Symbol('late');

/** Autopilot did not answer before the key-check deadline. */
class LateAnswer extends TransientError {}

/** `work` within the key-check deadline (real time: it guards the API function's own timeout). */
const withinDeadline = async <T>(ms: number, work: Promise<T>): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<typeof LATE>((resolve) => {
    timer = setTimeout(() => resolve(LATE), ms);
  });
  try {
    const result = await Promise.race([work, late]);
    if (result === LATE) throw new LateAnswer(`Autopilot did not answer within ${ms} ms`);
    return result;
  } finally {
    clearTimeout(timer);
  }
};

/**
 * Asks the destination whether a key works, with one cheap authenticated read (the account's lists,
 * which rotate-key compares), within the key-check deadline. Never logs the key.
 */
export const checkApiKey = async (
  deps: { destination: Destination; keyCheckTimeoutMs?: number },
  key: string,
): Promise<ListRef[]> => {
  const ms = deps.keyCheckTimeoutMs ?? DEFAULT_KEY_CHECK_TIMEOUT_MS;
  try {
    return await withinDeadline(ms, deps.destination.open(key).findLists());
  } catch (error) {
    if (error instanceof FatalRunError) {
      throw new KeyVerificationError('Autopilot rejected this API key; check it and try again.', false);
    }
    if (error instanceof LateAnswer) {
      throw new KeyVerificationError('Autopilot did not answer in time; try again.', true);
    }
    if (error instanceof TransientError) {
      const status = error.details.status;
      // No status: no HTTP answer at all (connection refused or reset, DNS), not a slow one.
      throw new KeyVerificationError(
        status === undefined
          ? 'Autopilot could not be reached to check the key; try again shortly.'
          : `Autopilot could not check the key right now (it answered ${status}); try again shortly.`,
        true,
      );
    }
    throw new KeyVerificationError(
      `Autopilot refused the verification request: ${(error as Error).message}`,
      false,
    );
  }
};
