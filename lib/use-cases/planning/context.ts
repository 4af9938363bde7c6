import type { Connection } from '#lib/domain/connection.ts';
import type { ExportConfig } from '#lib/domain/export-config.ts';
import type { PlanMessage, SendBatchMessageInput } from '#lib/domain/messages.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import type { BatchLedger } from '#lib/ports/batch-ledger.ts';
import type { Checkpoints } from '#lib/ports/checkpoints.ts';
import type { Connections } from '#lib/ports/connections.ts';
import type { Destination, Destinations } from '#lib/ports/destination.ts';
import type { ListRegistry } from '#lib/ports/list-registry.ts';
import type { PlanLedger } from '#lib/ports/plan-ledger.ts';
import type { RateBudget } from '#lib/ports/rate-budget.ts';
import type { SecretProvider } from '#lib/ports/secret-provider.ts';
import type { SegmentInfo, SegmentSource } from '#lib/ports/segment-source.ts';
import type { Snapshots } from '#lib/ports/snapshots.ts';
import type { TargetOwners } from '#lib/ports/target-owners.ts';
import type { TextStashes } from '#lib/ports/text-stash.ts';
import type { WorkQueue } from '#lib/ports/work-queue.ts';
import type { LifecycleDeps } from '../run-lifecycle.ts';

export interface PlannerSettings {
  /** Profiles read per segment-source page. */
  pageSize: number;
  /** Contacts per message when each costs one request. */
  perContactBatchSize: number;
  /** Stop and checkpoint when less than this much invocation time is left. */
  reserveMs: number;
  /** Re-probe bulk membership when the last answer is older than this. */
  probeRecheckMs: number;
  maxAttempts: number;
  baseDelayMs: number;
}

export interface PlanRunDeps extends LifecycleDeps {
  connections: Connections;
  plans: PlanLedger;
  batches: Pick<BatchLedger, 'addRequests' | 'record' | 'settlements'>;
  snapshots: Snapshots;
  lists: ListRegistry;
  targets: TargetOwners;
  checkpoints: Checkpoints;
  segments: SegmentSource;
  destinations: Destinations;
  /** Where a large run's contact texts are kept during an invocation; absent: on the heap. */
  textStash?: TextStashes;
  secrets: SecretProvider;
  rateBudget: RateBudget;
  sendQueue: WorkQueue<SendBatchMessageInput>;
  planQueue: WorkQueue<PlanMessage>;
  settings: PlannerSettings;
}

/** The export as the run uses it: its configuration frozen when the run started, and its id. */
export type RunExport = ExportConfig & { id: string };

/** One planning invocation: the run, its export and connection as loaded at its start. */
export interface Context {
  deps: PlanRunDeps;
  run: RunRecord;
  exp: RunExport;
  connection: Connection;
  /** The connection's destination adapter. */
  destination: Destination;
  segments: SegmentInfo[];
  remainingMs: () => number;
}
