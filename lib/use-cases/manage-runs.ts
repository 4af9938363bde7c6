import type { Caller } from '#lib/domain/access.ts';
import { ConflictError, NotFoundError } from '#lib/domain/errors.ts';
import { isTerminal } from '#lib/domain/run.ts';
import type { RunRecord } from '#lib/ports/state-store.ts';
import { authorizeOnExport, getExportOrThrow } from './manage-exports.ts';
import { endRun, type LifecycleDeps } from './run-lifecycle.ts';
import { RunRefusedError, type StartRunDeps, type StartRunResult, startRun } from './start-run.ts';

/**
 * On-demand run (or dry run) of an export, for a caller allowed to run it. Returns at once with the
 * run and its upper-bound estimate; planning continues asynchronously.
 */
export const requestRun = async (
  deps: StartRunDeps,
  exportId: string,
  options: { dryRun: boolean },
  caller: Caller,
): Promise<StartRunResult> => {
  const exp = await getExportOrThrow(deps.store, exportId);
  await authorizeOnExport(deps.store, caller, 'run:start', exp);
  try {
    return await startRun(deps, {
      exportId,
      trigger: options.dryRun ? 'dry-run' : 'on-demand',
      requestedBy: caller.id,
    });
  } catch (error) {
    if (error instanceof RunRefusedError) throw new ConflictError(error.message, { code: error.code });
    throw error;
  }
};

export const getRunOrThrow = async (
  deps: Pick<LifecycleDeps, 'store'>,
  runId: string,
): Promise<RunRecord> => {
  const run = await deps.store.getRun(runId);
  if (run === undefined) throw new NotFoundError(`Run ${runId} does not exist.`);
  return run;
};

/** Cancels a run in progress: it ends at once, and batches still queued are dropped when they come up. */
export const cancelRun = async (deps: LifecycleDeps, runId: string, caller: Caller): Promise<RunRecord> => {
  const run = await getRunOrThrow(deps, runId);
  const exp = await deps.store.getExport(run.exportId);
  await authorizeOnExport(deps.store, caller, 'run:cancel', exp);
  if (isTerminal(run.status)) throw new ConflictError(`Run ${runId} has already ended (${run.status}).`);
  await deps.store.requestCancel(runId);
  await endRun(deps, run, 'cancelled', `Cancelled by ${caller.id}.`);
  return getRunOrThrow(deps, runId);
};
