import type { Caller } from '#lib/domain/access.ts';
import type { ExportRecord } from '#lib/domain/export-record.ts';
import { recordAudit } from './audit.ts';
import { authorizeOnExport, getExportOrThrow } from './export-access.ts';
import { checkMembershipMode } from './export-checks.ts';
import type { ExportDeps } from './manage-exports.ts';

/**
 * A copy with a new id, unscheduled and with no run history, for the caller to adapt. It reserves no
 * lists: it names the same ones as its source, so it runs only once its list titles are changed.
 */
export const duplicateExport = async (
  deps: ExportDeps,
  id: string,
  caller: Caller,
): Promise<ExportRecord> => {
  const source = await getExportOrThrow(deps.exports, id);
  await authorizeOnExport(deps.connections, caller, 'export:write', source);
  // A copy is a new save: a source whose mode its connection lacks (stored before the check) is not copied.
  const connection =
    source.connectionId === null ? undefined : await deps.connections.get(source.connectionId);
  checkMembershipMode(deps.destinations, source, connection);
  // Neither the webhook (its secret belongs to the source) nor the source's health carries over.
  const {
    activeRunId: _run,
    activeDryRunId: _dry,
    lastRun: _last,
    health: _health,
    notifications: _hook,
    id: _id,
    version: _v,
    ...config
  } = source;
  const at = new Date(deps.clock.now()).toISOString();
  const copy: ExportRecord = {
    ...config,
    name: `Copy of ${source.name}`.slice(0, 200),
    scheduled: false,
    // Adopting lists this product did not create stays an admin's decision, also for a copy.
    adoptExistingLists: source.adoptExistingLists && caller.role === 'admin',
    id: deps.newId(),
    createdBy: caller.id,
    createdAt: at,
    updatedBy: caller.id,
    updatedAt: at,
    version: 1,
  };
  await deps.exports.create(copy);
  deps.logger.info('export duplicated', { exportId: copy.id, from: id, by: caller.id });
  await recordAudit(deps, caller, {
    action: 'export.duplicated',
    resource: { type: 'export', id: copy.id },
    states: { after: copy },
    detail: { copiedFrom: id },
  });
  return copy;
};
