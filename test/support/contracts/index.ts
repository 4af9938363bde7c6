import type { State } from '#lib/ports/state.ts';
import { describeAuditTrailContract } from './audit-trail.ts';
import { describeBatchLedgerContract } from './batch-ledger.ts';
import { describeCheckpointsContract } from './checkpoints.ts';
import { describeConnectionsContract } from './connections.ts';
import { describeExportHealthContract } from './export-health.ts';
import { describeExportsContract } from './exports.ts';
import { describeListRegistryContract } from './list-registry.ts';
import { describePlanLedgerContract } from './plan-ledger.ts';
import { describeRefreshesContract } from './refreshes.ts';
import { describeRunsContract } from './runs.ts';
import { describeSnapshotsContract } from './snapshots.ts';
import { describeTargetOwnersContract } from './target-owners.ts';

/**
 * Every role port's contract, for one implementation of them all. Every test uses fresh ids, so
 * `makeState` may hand out one shared state.
 */
export const describeStateContracts = (name: string, makeState: () => Promise<State>): void => {
  describeConnectionsContract(name, makeState);
  describeExportsContract(name, makeState);
  describeExportHealthContract(name, makeState);
  describeBatchLedgerContract(name, makeState);
  describeCheckpointsContract(name, makeState);
  describeSnapshotsContract(name, makeState);
  describeTargetOwnersContract(name, makeState);
  describeListRegistryContract(name, makeState);
  describeRunsContract(name, makeState);
  describePlanLedgerContract(name, makeState);
  describeRefreshesContract(name, makeState);
  describeAuditTrailContract(name, makeState);
};
