import type { DestinationAddress, DestinationType } from '#lib/domain/connection.ts';
import { FatalRunError, TransientError } from '#lib/domain/errors.ts';
import type { Destinations, ListRef } from '#lib/ports/destination.ts';

/** The longest wait for the destination during a key check, well inside the API function's own timeout. */
export const DEFAULT_KEY_CHECK_TIMEOUT_MS = 6_000;

/** A destination as admins name it, in every message about its key. */
export const DESTINATION_LABELS: Record<DestinationType, string> = { autopilot: 'Autopilot', ortto: 'Ortto' };

/** The destination refused the key (or could not be asked); the message says which, and names it. */
export class KeyVerificationError extends Error {
  override readonly name = 'KeyVerificationError';
  constructor(
    message: string,
    readonly retryable: boolean,
    /** The destination that was asked ("Autopilot", "Ortto"). */
    readonly destination: string = DESTINATION_LABELS.autopilot,
  ) {
    super(message);
  }
}

/**
 * What a working key showed. Autopilot: the account's lists, which rotate-key compares with the
 * lists the exports filled to notice another account. Ortto: only that the key works; it offers no
 * cheap read that tells one account from another (no "whoami"; tags appear on first use).
 */
export type KeyCheck = { type: 'autopilot'; lists: ListRef[] } | { type: 'ortto' };

const LATE = Symbol('late');

/** The destination did not answer before the key-check deadline. */
class LateAnswer extends TransientError {}

/** `work` within the key-check deadline (real time: it guards the API function's own timeout). */
const withinDeadline = async <T>(ms: number, work: Promise<T>): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<typeof LATE>((resolve) => {
    timer = setTimeout(() => resolve(LATE), ms);
  });
  try {
    const result = await Promise.race([work, late]);
    if (result === LATE) throw new LateAnswer(`no answer within ${ms} ms`);
    return result;
  } finally {
    clearTimeout(timer);
  }
};

/** Ortto answers a key of another region with 401: the refusal says which region was asked. */
const rejected = (address: DestinationAddress): string =>
  address.type === 'ortto'
    ? `Ortto rejected this API key in the "${address.region ?? 'global'}" region; check the key and that ` +
      'its account is in this region, and try again.'
    : 'Autopilot rejected this API key; check it and try again.';

/**
 * Asks the connection's destination whether a key works, with one cheap authenticated read, within
 * the key-check deadline: Autopilot's lists (as rotate-key needs them), Ortto's `verify()`. Never
 * logs the key.
 */
export const checkApiKey = async (
  deps: { destinations: Destinations; keyCheckTimeoutMs?: number },
  key: string,
  address: DestinationAddress,
): Promise<KeyCheck> => {
  const ms = deps.keyCheckTimeoutMs ?? DEFAULT_KEY_CHECK_TIMEOUT_MS;
  const label = DESTINATION_LABELS[address.type];
  const fail = (message: string, retryable: boolean) => new KeyVerificationError(message, retryable, label);
  try {
    const session = deps.destinations.for(address).open(key);
    if (address.type === 'ortto') {
      await withinDeadline(ms, session.verify());
      return { type: 'ortto' };
    }
    return { type: 'autopilot', lists: await withinDeadline(ms, session.findLists()) };
  } catch (error) {
    if (error instanceof FatalRunError) throw fail(rejected(address), false);
    if (error instanceof LateAnswer) throw fail(`${label} did not answer in time; try again.`, true);
    if (error instanceof TransientError) {
      const status = error.details.status;
      // No status: no HTTP answer at all (connection refused or reset, DNS), not a slow one.
      throw fail(
        status === undefined
          ? `${label} could not be reached to check the key; try again shortly.`
          : `${label} could not check the key right now (it answered ${status}); try again shortly.`,
        true,
      );
    }
    throw fail(`${label} refused the verification request: ${(error as Error).message}`, false);
  }
};
