import type { Caller } from '#lib/domain/access.ts';
import { ConflictError, NotFoundError } from '#lib/domain/errors.ts';
import { isTerminal } from '#lib/domain/run.ts';
import { recordAudit } from './audit.ts';
import { authorizeOnExport, getExportOrThrow } from './export-access.ts';
import type { ExportDeps } from './manage-exports.ts';
import { syncWebhookSecret } from './webhook-secret.ts';

/**
 * Deletes an export, the snapshot of what it sent (email keys are personal data) and its hold on
 * list titles and membership fields. Refused while a run is active: cancel it first. Autopilot lists
 * are left as they are. The delete is conditional on the run lock the check saw, so a run that
 * starts meanwhile makes it a 409, and of concurrent deletes exactly one succeeds (the others 404).
 */
export const deleteExport = async (deps: ExportDeps, id: string, caller: Caller): Promise<void> => {
  const current = await getExportOrThrow(deps.exports, id);
  await authorizeOnExport(deps.connections, caller, 'export:write', current);
  if (current.activeRunId !== undefined) {
    const run = await deps.runs.get(current.activeRunId);
    if (run !== undefined && !isTerminal(run.status)) {
      throw new ConflictError(`Run ${run.id} of this export is in progress; cancel it first.`, {
        runId: run.id,
      });
    }
  }
  if (!(await deps.exports.delete(id, { activeRunId: current.activeRunId }))) {
    const latest = await deps.exports.get(id);
    if (latest === undefined) throw new NotFoundError(`Export ${id} does not exist.`);
    throw new ConflictError('A run of this export started while it was being deleted; cancel it first.', {
      runId: latest.activeRunId,
    });
  }
  await deps.snapshots.delete(id);
  // The webhook's signing secret goes with its export (none set: nothing to delete).
  await syncWebhookSecret(deps, id, current.notifications?.webhookUrl, undefined);
  if (current.connectionId !== null) await deps.targets.release(current.connectionId, id);
  deps.logger.info('export deleted', { exportId: id, by: caller.id });
  await recordAudit(deps, caller, {
    action: 'export.deleted',
    resource: { type: 'export', id },
    states: { before: current },
  });
};
