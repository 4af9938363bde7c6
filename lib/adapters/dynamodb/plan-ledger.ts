import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { RunRecord } from '#lib/domain/run-record.ts';
import type { PlanLedger } from '#lib/ports/plan-ledger.ts';
import { Expr, isConditionFailed, keys, type TableContext, toItem } from './records.ts';
import { getRun, mustExist, RunNotFoundError, setRunFields, updateRun } from './runs.ts';

/** Takes the planning lease when free, expired, or already ours. */
export const leasePlanning = (
  ctx: TableContext,
  id: string,
  holder: string,
  now: string,
  until: string,
): Promise<boolean> =>
  updateRun(
    ctx,
    id,
    { planLease: { holder, until } },
    (e) =>
      `${mustExist(e)} AND (attribute_not_exists(${e.path('planLease')}) OR ` +
      `${e.path('planLease', 'until')} < ${e.value(now)} OR ${e.path('planLease', 'holder')} = ${e.value(holder)})`,
  );

export const releasePlanning = async (ctx: TableContext, id: string, holder: string): Promise<void> => {
  const e = new Expr();
  try {
    await ctx.client.send(
      new UpdateItemCommand({
        TableName: ctx.tableName,
        Key: toItem(keys.run(id)),
        UpdateExpression: `REMOVE ${e.path('planLease')}`,
        ConditionExpression: `${e.path('planLease', 'holder')} = ${e.value(holder)}`,
        ...e.attributes(),
      }),
    );
  } catch (error) {
    if (!isConditionFailed(error)) throw error; // not ours (any more): nothing to release
  }
};

/** Records the plan once; the same plan again is accepted, a different one refused. */
export const commitPlan = async (
  ctx: TableContext,
  id: string,
  plan: { batchesTotal: number; itemsPlanned: number; at: string },
): Promise<boolean> => {
  const won = await updateRun(
    ctx,
    id,
    { batchesTotal: plan.batchesTotal, itemsPlanned: plan.itemsPlanned, lastProgressAt: plan.at },
    (e) => `${mustExist(e)} AND attribute_not_exists(${e.path('batchesTotal')})`,
  );
  if (won) return true;
  const run = await getRun(ctx, id);
  if (run === undefined) throw new RunNotFoundError(id);
  return run.batchesTotal === plan.batchesTotal && run.itemsPlanned === plan.itemsPlanned;
};

export const notePlanning = (
  ctx: TableContext,
  id: string,
  update: { at: string; checkpointed?: boolean; batchesQueued?: number },
): Promise<void> =>
  setRunFields(ctx, id, {
    lastProgressAt: update.at,
    ...(update.checkpointed ? { checkpointed: true } : {}),
    ...(update.batchesQueued === undefined ? {} : { batchesQueued: update.batchesQueued }),
  });

/**
 * `PlanLedger` on the run's items: the lease, the decided plan and planning progress on `META`; the
 * planning figures (stats, estimate, drift) on `META#DETAIL`, off the item every range updates.
 */
export class DynamoDbPlanLedger implements PlanLedger {
  constructor(private readonly ctx: TableContext) {}

  lease(runId: string, holder: string, now: string, until: string): Promise<boolean> {
    return leasePlanning(this.ctx, runId, holder, now, until);
  }

  release(runId: string, holder: string): Promise<void> {
    return releasePlanning(this.ctx, runId, holder);
  }

  commit(runId: string, plan: { batchesTotal: number; itemsPlanned: number; at: string }): Promise<boolean> {
    return commitPlan(this.ctx, runId, plan);
  }

  note(runId: string, update: { at: string; checkpointed?: boolean; batchesQueued?: number }): Promise<void> {
    return notePlanning(this.ctx, runId, update);
  }

  complete(
    runId: string,
    update: Pick<RunRecord, 'planning' | 'estimate' | 'planningFinishedAt'>,
  ): Promise<void> {
    return setRunFields(this.ctx, runId, { ...update, planningDone: true });
  }

  saveStats(runId: string, update: Pick<RunRecord, 'planning' | 'estimate' | 'drift'>): Promise<void> {
    // Fields left undefined are left as they are (setRunFields sets only defined values).
    return setRunFields(this.ctx, runId, {
      planning: update.planning,
      estimate: update.estimate,
      drift: update.drift,
    });
  }
}
