import type { AuditTrail } from './audit-trail.ts';
import type { BatchLedger } from './batch-ledger.ts';
import type { Checkpoints } from './checkpoints.ts';
import type { Connections } from './connections.ts';
import type { Exports } from './exports.ts';
import type { ListRegistry } from './list-registry.ts';
import type { PlanLedger } from './plan-ledger.ts';
import type { Refreshes } from './refreshes.ts';
import type { Runs } from './runs.ts';
import type { Snapshots } from './snapshots.ts';
import type { TargetOwners } from './target-owners.ts';

/**
 * Every role port over the pipeline's state, as one adapter provides them (one DynamoDB table in
 * AWS). Composition roots build it once and hand each use case the roles it names.
 */
export interface State {
  connections: Connections;
  exports: Exports;
  runs: Runs;
  plans: PlanLedger;
  batches: BatchLedger;
  snapshots: Snapshots;
  lists: ListRegistry;
  targets: TargetOwners;
  checkpoints: Checkpoints;
  refreshes: Refreshes;
  audit: AuditTrail;
}
