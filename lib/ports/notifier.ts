import type { ExportHealthState } from '#lib/domain/export-health.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';

/** A refresh that was refused: nothing of it is exported, and whoever drops refreshes must fix it. */
export interface RejectedRefresh {
  refreshId: string;
  /** Each problem, naming the manifest field or the file it concerns. */
  reasons: string[];
}

/**
 * An export whose health changed (docs/architecture.md#notifications): it started failing, its key
 * was rejected, a run is held, or it recovered. Sent once per change, never per run.
 */
export interface HealthChange {
  exportId: string;
  exportName: string;
  /** Undefined: the export's first run that said anything about its health. */
  from: ExportHealthState | undefined;
  to: ExportHealthState;
  /** On a recovery, the failing runs of the streak that ended; otherwise those of the new state. */
  failingRuns: number;
  reason?: string;
  /** The run whose end changed it. */
  run: RunRecord;
  /** The export's own webhook, when it has one. */
  webhookUrl?: string;
}

/** Tells people about exports and refreshes that need attention (SNS topic and webhooks in AWS, the log locally). */
export interface Notifier {
  healthChanged(change: HealthChange): Promise<void>;
  /** A run the removal guardrail held for an admin's approval, with the plan's numbers. */
  runHeld(run: RunRecord): Promise<void>;
  refreshRejected(refresh: RejectedRefresh): Promise<void>;
}
