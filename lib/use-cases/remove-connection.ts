import { authorize, type Caller } from '#lib/domain/access.ts';
import { ConflictError } from '#lib/domain/errors.ts';
import type { ExportRecord } from '#lib/domain/export-record.ts';
import { isTerminal } from '#lib/domain/run.ts';
import type { Exports } from '#lib/ports/exports.ts';
import { type AuditDeps, recordAudit } from './audit.ts';
import { type ConnectionDeps, getConnectionOrThrow } from './manage-connections.ts';
import { endRun, type LifecycleDeps } from './run-lifecycle.ts';

/** Removing a connection also ends runs, which needs the lifecycle's notifier. */
export type ConnectionRemovalDeps = ConnectionDeps & LifecycleDeps;

/** Exports that use a connection. */
export const exportsUsing = async (
  exports: Pick<Exports, 'list'>,
  connectionId: string,
): Promise<ExportRecord[]> => (await exports.list()).filter((e) => e.connectionId === connectionId);

/**
 * Removes a connection. Refused while exports use it unless `detach`: detached exports keep their
 * configuration, show "no connection" and never run until one is attached. Runs in flight on it
 * are cancelled, and its secret is deleted.
 */
export const deleteConnection = async (
  deps: ConnectionRemovalDeps,
  id: string,
  options: { detach: boolean },
  caller: Caller,
): Promise<{ detached: string[]; cancelledRuns: string[] }> => {
  authorize(caller, 'connection:manage');
  const connection = await getConnectionOrThrow(deps.connections, id);
  const users = await exportsUsing(deps.exports, id);
  if (users.length > 0 && !options.detach) {
    throw new ConflictError(
      `${users.length} export(s) use this connection; detach them (detach=true) or move them first.`,
      { exports: users.map((e) => ({ id: e.id, name: e.name })) },
    );
  }
  const detached: string[] = [];
  const cancelledRuns: string[] = [];
  for (const exp of users) {
    await detachExport(deps, exp.id, id, caller);
    detached.push(exp.id);
  }
  for (const exp of users) {
    if (exp.activeRunId === undefined) continue;
    const run = await deps.runs.get(exp.activeRunId);
    if (run === undefined || isTerminal(run.status)) continue;
    await deps.runs.requestCancel(run.id);
    if (await endRun(deps, run, 'cancelled', 'The connection was removed while the run was in progress.')) {
      cancelledRuns.push(run.id);
      await recordAudit(deps, caller, {
        action: 'run.cancelled',
        resource: { type: 'export', id: exp.id },
        runId: run.id,
        detail: { reason: 'connection_removed' },
      });
    }
  }
  await deps.connections.delete(id);
  // An export saved on it after the listing above (createExport checks again after saving, so one
  // of the two always sees the other) must not point at a connection that is gone.
  for (const exp of await exportsUsing(deps.exports, id)) {
    await detachExport(deps, exp.id, id, caller);
    detached.push(exp.id);
  }
  await deps.secrets.deleteApiKey(id);
  deps.logger.info('connection removed', { connectionId: id, by: caller.id, detached, cancelledRuns });
  await recordAudit(deps, caller, {
    action: 'connection.removed',
    resource: { type: 'connection', id },
    states: { before: connection },
    detail: { detached, cancelledRuns },
  });
  return { detached, cancelledRuns };
};

/** Detaches the export from the connection if it is still on it, and records that it did. */
const detachExport = async (
  deps: AuditDeps & { exports: Exports },
  exportId: string,
  connectionId: string,
  caller: Caller,
): Promise<void> => {
  for (let attempt = 0; attempt < 5; attempt++) {
    const exp = await deps.exports.get(exportId);
    if (exp === undefined || exp.connectionId !== connectionId) return;
    const stamp = { by: caller.id, at: new Date(deps.clock.now()).toISOString() };
    const next = await deps.exports.revise(exportId, exp.version, { connectionId: null }, stamp);
    if (next !== undefined) {
      await recordAudit(deps, caller, {
        action: 'export.updated',
        resource: { type: 'export', id: exportId },
        states: { before: exp, after: next },
        detail: { reason: 'connection_removed' },
      });
      return;
    }
  }
  throw new ConflictError(`Export ${exportId} kept changing while it was being detached; try again.`);
};
