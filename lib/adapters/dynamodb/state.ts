import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Clock, systemClock } from '#lib/ports/clock.ts';
import type { State } from '#lib/ports/state.ts';
import { DynamoDbAuditTrail } from './audit-trail.ts';
import { DynamoDbBatchLedger } from './batch-ledger.ts';
import { DynamoDbCheckpoints } from './checkpoints.ts';
import { DynamoDbConnections } from './connections.ts';
import { DynamoDbExports } from './exports.ts';
import { DynamoDbListRegistry } from './lists.ts';
import { DynamoDbPlanLedger } from './plan-ledger.ts';
import { DEFAULT_TTL_DAYS, type TableContext, type TtlDays } from './records.ts';
import { DynamoDbRefreshes } from './refreshes.ts';
import { DynamoDbRuns } from './runs.ts';
import { DynamoDbSnapshots } from './snapshot.ts';
import { DynamoDbTargetOwners } from './targets.ts';

export { CorruptItemError } from './records.ts';
export { RunNotFoundError } from './runs.ts';

export interface DynamoDbStateOptions {
  client: DynamoDBClient;
  tableName: string;
  clock?: Clock;
  ttlDays?: Partial<TtlDays>;
}

/**
 * Every role port over one state table (key design and the reasons for it in ./README.md). Every
 * item read back is validated with its domain schema (a corrupt item throws `CorruptItemError`
 * naming its key and field); every write that must happen once is conditional.
 */
export const createDynamoDbState = (options: DynamoDbStateOptions): State => {
  const ctx: TableContext = {
    client: options.client,
    tableName: options.tableName,
    clock: options.clock ?? systemClock,
    ttlDays: { ...DEFAULT_TTL_DAYS, ...options.ttlDays },
  };
  return {
    connections: new DynamoDbConnections(ctx),
    exports: new DynamoDbExports(ctx),
    runs: new DynamoDbRuns(ctx),
    plans: new DynamoDbPlanLedger(ctx),
    batches: new DynamoDbBatchLedger(ctx),
    snapshots: new DynamoDbSnapshots(ctx),
    lists: new DynamoDbListRegistry(ctx),
    targets: new DynamoDbTargetOwners(ctx),
    checkpoints: new DynamoDbCheckpoints(ctx),
    refreshes: new DynamoDbRefreshes(ctx),
    audit: new DynamoDbAuditTrail(ctx),
  };
};
