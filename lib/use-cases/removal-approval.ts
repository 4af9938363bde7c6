import { authorize, type Caller } from '#lib/domain/access.ts';
import { ConflictError } from '#lib/domain/errors.ts';
import { MESSAGE_VERSION, type PlanMessage } from '#lib/domain/messages.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import type { Connections } from '#lib/ports/connections.ts';
import type { WorkQueue } from '#lib/ports/work-queue.ts';
import { type AuditDeps, recordAudit } from './audit.ts';
import { getRunOrThrow, runGoverningConnections } from './manage-runs.ts';
import type { LifecycleDeps } from './run-lifecycle.ts';

export type RemovalDecisionDeps = LifecycleDeps &
  AuditDeps & { connections: Pick<Connections, 'get'>; planQueue: WorkQueue<PlanMessage> };

const count = (n: number): string => n.toLocaleString('en-US');

/**
 * An admin's decision on a run the removal guardrail held (docs/architecture.md#removal-guardrail).
 * One conditional transition, awaiting_approval → sending, lets exactly one decision win (a second
 * approve, or a reject racing it, is a 409), and records it on the hold. The planner then queues the
 * held removal batches (approved) or records them as not sent (rejected), rebuilt from the decided
 * plan's checkpoint: nothing is planned again, and a batch queued twice is still sent once.
 */
export const decideHeldRemovals = async (
  deps: RemovalDecisionDeps,
  runId: string,
  outcome: 'approved' | 'rejected',
  caller: Caller,
): Promise<RunRecord> => {
  const run = await getRunOrThrow(deps, runId);
  authorize(caller, 'run:approve', await runGoverningConnections(deps, run));
  const hold = run.hold;
  const notHeld = `Run ${runId} is not awaiting approval (${run.status.replaceAll('_', ' ')}).`;
  if (run.status !== 'awaiting_approval' || hold === undefined || hold.decision !== undefined)
    throw new ConflictError(notHeld);
  const at = new Date(deps.clock.now()).toISOString();
  const won = await deps.runs.transition(runId, ['awaiting_approval'], 'sending', {
    hold: { ...hold, decision: { outcome, by: caller.id, at } },
    // The wait for a person is not a stall: the watchdog counts from the decision.
    lastProgressAt: at,
    ...(outcome === 'rejected'
      ? {
          reason:
            `${count(hold.removals)} removals held by the removal guardrail were rejected by ${caller.id} ` +
            'and not sent; the next run sees those contacts as leavers again.',
        }
      : {}),
  });
  if (!won) throw new ConflictError(notHeld);
  await deps.planQueue.send([
    { v: MESSAGE_VERSION, type: 'plan', runId, exportId: run.exportId, resume: true },
  ]);
  await recordAudit(deps, caller, {
    action: outcome === 'approved' ? 'run.approved' : 'run.rejected',
    resource: { type: 'export', id: run.exportId },
    runId,
    detail: { removals: hold.removals },
  });
  deps.logger.info(`held removals ${outcome}`, { runId, exportId: run.exportId, removals: hold.removals });
  return getRunOrThrow(deps, runId);
};
