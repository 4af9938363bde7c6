import type { ErrorSample } from '#lib/domain/batch.ts';
import { maskEmail } from '#lib/domain/email.ts';
import type { RecordedOutcome } from '#lib/ports/batch-ledger.ts';
import type { ContactResult } from '#lib/ports/destination.ts';
import type { RequestTally } from '../destination-calls.ts';

const SAMPLES_PER_RANGE = 5;

/** What happens to the items after the delivered ones when a range closes the batch. */
export type Rest =
  | { count: 0 }
  | { count: number; as: 'dropped' }
  | { count: number; as: 'failed'; reason: string; emails?: readonly string[] };

/** Folds per-contact results (and the batch's rest, when it closes it) into the counts recorded for them. */
export const outcomeOf = (
  results: readonly ContactResult[],
  rest: Rest,
  tally: RequestTally,
  context: { batchNo: number; maskEmails: boolean; at: string; from: number },
): RecordedOutcome => {
  const failed: Record<string, number> = {};
  const samples: ErrorSample[] = [];
  // Normalised as the planner keys contacts, so a retry names exactly these.
  const failedEmails = new Set<string>();
  // Batch positions, for settling the run's staged snapshot changes (snapshot-view.ts).
  const failedItems: number[] = [];
  let accepted = 0;
  for (const [i, r] of results.entries()) {
    if (r.ok) {
      accepted++;
      continue;
    }
    failedItems.push(context.from + i);
    failed[r.reason] = (failed[r.reason] ?? 0) + 1;
    failedEmails.add(r.email.trim().toLowerCase());
    if (samples.length < SAMPLES_PER_RANGE) {
      const email = context.maskEmails ? maskEmail(r.email) : r.email;
      samples.push({ email, reason: r.reason, batchNo: context.batchNo });
    }
  }
  let dropped = 0;
  if (rest.count > 0 && 'as' in rest) {
    if (rest.as === 'dropped') dropped = rest.count;
    else {
      failed[rest.reason] = (failed[rest.reason] ?? 0) + rest.count;
      for (const email of rest.emails ?? []) failedEmails.add(email.trim().toLowerCase());
    }
  }
  return {
    at: context.at,
    accepted,
    failed,
    dropped,
    requests: { ...tally.requests },
    throttled: tally.throttled,
    samples,
    ...(failedEmails.size === 0 ? {} : { failedEmails: [...failedEmails].sort() }),
    ...(failedItems.length === 0 ? {} : { failedItems }),
    // Where results end when this range closes the batch: the rest had none (dropped or failed unsent).
    ...(rest.count > 0 ? { resultsTo: context.from + results.length } : {}),
  };
};
