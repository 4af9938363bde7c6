import type { State } from '#lib/ports/state.ts';
import { InMemoryAuditTrail } from './state/audit-trail.ts';
import { InMemoryBatchLedger } from './state/batch-ledger.ts';
import { InMemoryCheckpoints } from './state/checkpoints.ts';
import { InMemoryConnections } from './state/connections.ts';
import { InMemoryExports } from './state/exports.ts';
import { InMemoryListRegistry } from './state/lists.ts';
import { InMemoryPlanLedger } from './state/plan-ledger.ts';
import { InMemoryRefreshes } from './state/refreshes.ts';
import { InMemoryRuns } from './state/runs.ts';
import { InMemorySnapshots } from './state/snapshots.ts';
import { Tables } from './state/tables.ts';
import { InMemoryTargetOwners } from './state/targets.ts';

/**
 * Every role port in memory for unit tests, with the same conditions, exactly-once ranges, leases,
 * claims and snapshot semantics as the DynamoDB ones (both pass the contracts in
 * test/support/contracts/). Records are copied in and out and validated with their schemas on the
 * way out, like items read back from DynamoDB.
 */
export const createInMemoryState = (): State => {
  const tables = new Tables();
  return {
    connections: new InMemoryConnections(tables),
    exports: new InMemoryExports(tables),
    runs: new InMemoryRuns(tables),
    plans: new InMemoryPlanLedger(tables),
    batches: new InMemoryBatchLedger(tables),
    snapshots: new InMemorySnapshots(tables),
    lists: new InMemoryListRegistry(tables),
    targets: new InMemoryTargetOwners(tables),
    checkpoints: new InMemoryCheckpoints(tables),
    refreshes: new InMemoryRefreshes(tables),
    audit: new InMemoryAuditTrail(),
  };
};
