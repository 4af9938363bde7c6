import type { RunRecord } from '#lib/domain/run-record.ts';

/** A refresh that was refused: nothing of it is exported, and whoever drops refreshes must fix it. */
export interface RejectedRefresh {
  refreshId: string;
  /** Each problem, naming the manifest field or the file it concerns. */
  reasons: string[];
}

/** Tells people about runs and refreshes that need attention (SNS topic in AWS, the log locally). */
export interface Notifier {
  runFinished(run: RunRecord): Promise<void>;
  refreshRejected(refresh: RejectedRefresh): Promise<void>;
}
