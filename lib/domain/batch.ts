/**
 * What part of one batch did, recorded exactly once however often SQS delivers it. A batch is
 * recorded in ranges of its items (`from` … `to`), so the work of a delivery that fails half way is
 * kept and only the rest is sent again.
 */
export interface BatchOutcome {
  /** When it was recorded (the run's last progress). */
  at: string;
  accepted: number;
  failed: Record<string, number>;
  dropped: number;
  requests: Record<string, number>;
  throttled: number;
  samples: ErrorSample[];
}

export interface ErrorSample {
  /** Masked unless the operator opted out of masking. */
  email: string;
  reason: string;
  batchNo?: number;
}

/** How far the sending of one batch has got: items before `next` are recorded; `done` when all are. */
export interface BatchState {
  next: number;
  done: boolean;
  /** Until when a delivery holds the batch (see leaseBatch). */
  leaseUntil?: string;
}

/** Which items of a batch an outcome covers; `final` marks the batch done. */
export interface BatchRange {
  from: number;
  to: number;
  final: boolean;
}

/** Whether a range was recorded by this call, and where the batch stands now. */
export interface RecordResult {
  recorded: boolean;
  state: BatchState;
}

/** A batch number the run's decided plan does not contain (or the run has no plan yet). */
export class BatchOutsidePlanError extends Error {
  override readonly name = 'BatchOutsidePlanError';
  constructor(
    readonly runId: string,
    readonly batchNo: number,
  ) {
    super(`Batch ${batchNo} is not part of the decided plan of run ${runId}`);
  }
}
