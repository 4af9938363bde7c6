import type { RunRecord } from '#lib/domain/run-record.ts';
import type { PlanLedger } from '#lib/ports/plan-ledger.ts';
import { assignDefined, clone, type Tables } from './tables.ts';

/** `PlanLedger` in memory, on the shared run records. */
export class InMemoryPlanLedger implements PlanLedger {
  constructor(private readonly t: Tables) {}

  async lease(runId: string, holder: string, now: string, until: string): Promise<boolean> {
    const r = this.t.mustRun(runId);
    const lease = r.planLease;
    if (lease !== undefined && lease.holder !== holder && !(lease.until < now)) return false;
    r.planLease = { holder, until };
    return true;
  }

  async release(runId: string, holder: string): Promise<void> {
    const r = this.t.runs.get(runId);
    if (r?.planLease?.holder === holder) delete r.planLease;
  }

  async commit(
    runId: string,
    plan: { batchesTotal: number; itemsPlanned: number; at: string },
  ): Promise<boolean> {
    const r = this.t.mustRun(runId);
    if (r.batchesTotal !== undefined)
      return r.batchesTotal === plan.batchesTotal && r.itemsPlanned === plan.itemsPlanned;
    r.batchesTotal = plan.batchesTotal;
    r.itemsPlanned = plan.itemsPlanned;
    r.lastProgressAt = plan.at;
    return true;
  }

  async note(
    runId: string,
    update: { at: string; checkpointed?: boolean; batchesQueued?: number },
  ): Promise<void> {
    const r = this.t.mustRun(runId);
    r.lastProgressAt = update.at;
    if (update.checkpointed) r.checkpointed = true;
    if (update.batchesQueued !== undefined) r.batchesQueued = update.batchesQueued;
  }

  async complete(
    runId: string,
    update: Pick<RunRecord, 'planning' | 'estimate' | 'planningFinishedAt'>,
  ): Promise<void> {
    const r = this.t.mustRun(runId);
    r.planningDone = true;
    assignDefined(r, clone(update));
  }

  async saveStats(runId: string, update: Pick<RunRecord, 'planning' | 'estimate' | 'drift'>): Promise<void> {
    assignDefined(this.t.mustRun(runId), clone(update));
  }
}
