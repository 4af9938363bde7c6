import type { BatchOutcome, BatchRange, BatchState, ErrorSample, RecordResult } from '#lib/domain/batch.ts';
import type { BatchSettlement } from '#lib/domain/snapshot.ts';

/**
 * An outcome as the ledger records it: with the normalised emails of the contacts that failed in the
 * range (at most a batch's 100), kept on the batch so `POST /runs/{id}/retry-failed` can name them.
 */
export type RecordedOutcome = BatchOutcome & {
  failedEmails?: readonly string[];
  /** Batch positions (not range positions) of the contacts the destination refused. */
  failedItems?: readonly number[];
  /** On the range that closes the batch: where its results end (the items after had none). */
  resultsTo?: number;
};

/** How far each batch of a run has been sent, and the run's counters (DynamoDB in AWS). */
export interface BatchLedger {
  /**
   * Records the outcome of items `from`…`to` of a batch exactly once, in one transaction with the run's
   * counters (and `batchesDone` when `final`). Recorded only when the batch stands at `from` (nothing
   * recorded yet when 0) and is not done; otherwise nothing changes and the result says where the batch
   * stands. Throws BatchOutsidePlanError for a batch number outside the run's decided plan.
   */
  record(runId: string, batchNo: number, range: BatchRange, outcome: RecordedOutcome): Promise<RecordResult>;
  /** Where the batch stands; undefined when nothing of it is recorded or leased. */
  get(runId: string, batchNo: number): Promise<BatchState | undefined>;
  /**
   * Takes a batch for one delivery until `until` (its deadline), so two deliveries of one message
   * never send it at once. Succeeds when the batch is not done and nobody else holds an unexpired
   * lease (or `holder` does). A leased batch counts as tried from then on (see BatchSettlement).
   */
  lease(runId: string, batchNo: number, holder: string, now: string, until: string): Promise<boolean>;
  /**
   * What each batch of the run recorded, for settling the run's staged snapshot changes: batches
   * never leased nor recorded are absent.
   */
  settlements(runId: string): Promise<Map<number, BatchSettlement>>;
  release(runId: string, batchNo: number, holder: string): Promise<void>;
  /** Adds requests made outside a recorded range (they were still sent). */
  addRequests(runId: string, requests: Record<string, number>, throttled: number): Promise<void>;
  errorSamples(runId: string, limit: number): Promise<ErrorSample[]>;
  /**
   * The distinct normalised emails of the run's failed contacts, sorted, at most `limit`; they expire
   * with the batches (30 days).
   */
  failedEmails(runId: string, limit: number): Promise<string[]>;
}
