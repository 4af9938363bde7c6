import { maskEmail } from '#lib/domain/email.ts';
import type { ContactResult } from '#lib/ports/destination.ts';
import type { BatchOutcome, ErrorSample } from '#lib/ports/state-store.ts';
import type { RequestTally } from '../destination-calls.ts';

const SAMPLES_PER_BATCH = 5;

/** Folds per-contact results into the counts recorded for the batch. */
export const outcomeOf = (
  results: readonly ContactResult[],
  tally: RequestTally,
  batchNo: number,
  maskEmails: boolean,
): BatchOutcome => {
  const failed: Record<string, number> = {};
  const samples: ErrorSample[] = [];
  let accepted = 0;
  for (const r of results) {
    if (r.ok) {
      accepted++;
      continue;
    }
    failed[r.reason] = (failed[r.reason] ?? 0) + 1;
    if (samples.length < SAMPLES_PER_BATCH) {
      samples.push({ email: maskEmails ? maskEmail(r.email) : r.email, reason: r.reason, batchNo });
    }
  }
  return {
    accepted,
    failed,
    dropped: 0,
    requests: { ...tally.requests },
    throttled: tally.throttled,
    samples,
  };
};

export const droppedOutcome = (count: number, tally?: RequestTally): BatchOutcome => ({
  accepted: 0,
  failed: {},
  dropped: count,
  requests: tally ? { ...tally.requests } : {},
  throttled: tally?.throttled ?? 0,
  samples: [],
});
