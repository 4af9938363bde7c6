import { authorize, type Caller } from '#lib/domain/access.ts';
import type { Connection } from '#lib/domain/connection.ts';
import { ConflictError, NotFoundError } from '#lib/domain/errors.ts';
import { isTerminal } from '#lib/domain/run.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import type { Connections } from '#lib/ports/connections.ts';
import type { Exports } from '#lib/ports/exports.ts';
import { type AuditDeps, recordAudit } from './audit.ts';
import { authorizeOnExport, getExportOrThrow, governingConnections } from './export-access.ts';
import { endRun, type LifecycleDeps } from './run-lifecycle.ts';
import { RunRefusedError, type StartRunDeps, type StartRunResult, startRun } from './start-run.ts';

/**
 * On-demand run (or dry run) of an export, for a caller allowed to run it. Returns at once with the
 * run and its upper-bound estimate; planning continues asynchronously.
 */
export const requestRun = async (
  deps: StartRunDeps & AuditDeps,
  exportId: string,
  options: { dryRun: boolean; repair?: boolean },
  caller: Caller,
): Promise<StartRunResult> => {
  const exp = await getExportOrThrow(deps.exports, exportId);
  await authorizeOnExport(deps.connections, caller, 'run:start', exp);
  const trigger = options.dryRun ? 'dry-run' : 'on-demand';
  let result: StartRunResult;
  try {
    result = await startRun(deps, {
      exportId,
      trigger,
      requestedBy: caller.id,
      ...(options.repair ? { repair: true } : {}),
    });
  } catch (error) {
    if (error instanceof RunRefusedError) throw new ConflictError(error.message, { code: error.code });
    throw error;
  }
  // A request refused because a run is active still leaves a (skipped) run: it is recorded too.
  await recordAudit(deps, caller, {
    action: 'run.requested',
    resource: { type: 'export', id: exportId },
    runId: result.run.id,
    detail: { trigger, status: result.run.status, ...(options.repair ? { repair: true } : {}) },
  });
  return result;
};

export const getRunOrThrow = async (deps: Pick<LifecycleDeps, 'runs'>, runId: string): Promise<RunRecord> => {
  const run = await deps.runs.get(runId);
  if (run === undefined) throw new NotFoundError(`Run ${runId} does not exist.`);
  return run;
};

/**
 * The connections whose sharing decides who may act on a run: its export's, so an edit moving the
 * export governs its runs too; none once the export is deleted (admins only, as for a detached one).
 */
export const runGoverningConnections = async (
  deps: { exports: Pick<Exports, 'get'>; connections: Pick<Connections, 'get'> },
  run: RunRecord,
): Promise<Connection[]> => {
  const exp = await deps.exports.get(run.exportId);
  return exp === undefined ? [] : governingConnections(deps.connections, exp);
};

/** Cancels a run in progress: it ends at once, and batches still queued are dropped when they come up. */
export const cancelRun = async (
  deps: LifecycleDeps & AuditDeps & { connections: Pick<Connections, 'get'> },
  runId: string,
  caller: Caller,
): Promise<RunRecord> => {
  const run = await getRunOrThrow(deps, runId);
  authorize(caller, 'run:cancel', await runGoverningConnections(deps, run));
  if (isTerminal(run.status)) throw new ConflictError(`Run ${runId} has already ended (${run.status}).`);
  await deps.runs.requestCancel(runId);
  await endRun(deps, run, 'cancelled', `Cancelled by ${caller.id}.`);
  await recordAudit(deps, caller, {
    action: 'run.cancelled',
    resource: { type: 'export', id: run.exportId },
    runId,
  });
  return getRunOrThrow(deps, runId);
};
