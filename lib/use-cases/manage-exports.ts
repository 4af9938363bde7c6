import * as z from 'zod';
import { authorize, type Caller, can } from '#lib/domain/access.ts';
import { ConflictError, NotFoundError, ValidationError } from '#lib/domain/errors.ts';
import { ExportConfigSchema } from '#lib/domain/export-config.ts';
import { isTerminal } from '#lib/domain/run.ts';
import { parseOrThrow } from '#lib/domain/validation.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { Logger } from '#lib/ports/logger.ts';
import type { SegmentSource } from '#lib/ports/segment-source.ts';
import type { Connection, ExportRecord, StateStore } from '#lib/ports/state-store.ts';

export interface ExportDeps {
  store: StateStore;
  segments: SegmentSource;
  clock: Clock;
  logger: Logger;
  newId: () => string;
}

/** Every selected segment must exist in the source; the error names each missing one by path. */
export const checkSegmentsExist = async (segments: SegmentSource, ids: readonly string[]): Promise<void> => {
  const missing: Array<{ path: string; reason: string }> = [];
  for (const [i, id] of ids.entries()) {
    if ((await segments.getSegment(id)) === undefined) {
      missing.push({ path: `segmentIds.${i}`, reason: `no segment "${id}" exists in the segment source` });
    }
  }
  if (missing.length > 0) throw new ValidationError(missing);
};

export const getExportOrThrow = async (store: StateStore, id: string): Promise<ExportRecord> => {
  const exp = await store.getExport(id);
  if (exp === undefined) throw new NotFoundError(`Export ${id} does not exist.`);
  return exp;
};

/** The connection an export (or an edit of it) points at; a missing one is a validation error. */
const connectionFor = async (store: StateStore, connectionId: string | null): Promise<Connection[]> => {
  if (connectionId === null) return [];
  const connection = await store.getConnection(connectionId);
  if (connection === undefined)
    throw new ValidationError([{ path: 'connectionId', reason: 'no such connection' }]);
  return [connection];
};

/** The connections whose sharing decides whether `caller` may change or run `exp`. */
export const governingConnections = async (store: StateStore, exp: ExportRecord): Promise<Connection[]> => {
  if (exp.connectionId === null) return [];
  const connection = await store.getConnection(exp.connectionId);
  return connection === undefined ? [] : [connection];
};

const now = (clock: Clock): string => new Date(clock.now()).toISOString();

/** Saves a new export. Saving never runs it. */
export const createExport = async (
  deps: ExportDeps,
  input: unknown,
  caller: Caller,
): Promise<ExportRecord> => {
  const config = parseOrThrow(ExportConfigSchema.strict(), input);
  authorize(caller, 'export:write', await connectionFor(deps.store, config.connectionId));
  await checkSegmentsExist(deps.segments, config.segmentIds);
  const at = now(deps.clock);
  const record: ExportRecord = {
    ...config,
    id: deps.newId(),
    createdBy: caller.id,
    createdAt: at,
    updatedBy: caller.id,
    updatedAt: at,
    version: 1,
  };
  if (!(await deps.store.putExport(record, { expectNew: true }))) {
    throw new ConflictError('An export with this id already exists.');
  }
  deps.logger.info('export created', { exportId: record.id, by: caller.id });
  return record;
};

/** The whole configuration replaced, as the editor saves it; `version` guards concurrent edits. */
export const UpdateExportInputSchema = ExportConfigSchema.and(z.object({ version: z.number().int().min(1) }));

const saveEdit = async (
  deps: ExportDeps,
  next: ExportRecord,
  expectVersion: number,
): Promise<ExportRecord> => {
  if (!(await deps.store.putExport(next, { expectVersion }))) {
    throw new ConflictError(
      'The export changed since you read it (a run may have started or ended); reload and try again.',
    );
  }
  return next;
};

export const updateExport = async (
  deps: ExportDeps,
  id: string,
  input: unknown,
  caller: Caller,
): Promise<ExportRecord> => {
  const current = await getExportOrThrow(deps.store, id);
  authorize(caller, 'export:write', await governingConnections(deps.store, current));
  const { version, ...config } = parseOrThrow(UpdateExportInputSchema, input);
  authorize(caller, 'export:write', await connectionFor(deps.store, config.connectionId));
  if (version !== current.version) {
    throw new ConflictError('The export changed since you read it; reload and try again.', {
      currentVersion: current.version,
    });
  }
  await checkSegmentsExist(deps.segments, config.segmentIds);
  const next: ExportRecord = {
    ...current,
    ...config,
    updatedBy: caller.id,
    updatedAt: now(deps.clock),
    version: current.version + 1,
  };
  await saveEdit(deps, next, current.version);
  deps.logger.info('export updated', { exportId: id, by: caller.id });
  return next;
};

export const setSchedule = async (
  deps: ExportDeps,
  id: string,
  input: unknown,
  caller: Caller,
): Promise<ExportRecord> => {
  const { scheduled } = parseOrThrow(z.object({ scheduled: z.boolean() }).strict(), input);
  const current = await getExportOrThrow(deps.store, id);
  authorize(caller, 'export:write', await governingConnections(deps.store, current));
  const next: ExportRecord = {
    ...current,
    scheduled,
    updatedBy: caller.id,
    updatedAt: now(deps.clock),
    version: current.version + 1,
  };
  await saveEdit(deps, next, current.version);
  deps.logger.info('export schedule changed', { exportId: id, scheduled, by: caller.id });
  return next;
};

/** A copy with a new id, unscheduled and with no run history, for the caller to adapt. */
export const duplicateExport = async (
  deps: ExportDeps,
  id: string,
  caller: Caller,
): Promise<ExportRecord> => {
  const source = await getExportOrThrow(deps.store, id);
  authorize(caller, 'export:write', await governingConnections(deps.store, source));
  const { activeRunId: _run, lastRun: _last, id: _id, version: _v, ...config } = source;
  const at = now(deps.clock);
  const copy: ExportRecord = {
    ...config,
    name: `Copy of ${source.name}`.slice(0, 200),
    scheduled: false,
    id: deps.newId(),
    createdBy: caller.id,
    createdAt: at,
    updatedBy: caller.id,
    updatedAt: at,
    version: 1,
  };
  await deps.store.putExport(copy, { expectNew: true });
  deps.logger.info('export duplicated', { exportId: copy.id, from: id, by: caller.id });
  return copy;
};

/**
 * Deletes an export and the snapshot of what it sent (email keys are personal data). Refused while a
 * run is active: cancel it first. Autopilot lists are left as they are.
 */
export const deleteExport = async (deps: ExportDeps, id: string, caller: Caller): Promise<void> => {
  const current = await getExportOrThrow(deps.store, id);
  authorize(caller, 'export:write', await governingConnections(deps.store, current));
  if (current.activeRunId !== undefined) {
    const run = await deps.store.getRun(current.activeRunId);
    if (run !== undefined && !isTerminal(run.status)) {
      throw new ConflictError(`Run ${run.id} of this export is in progress; cancel it first.`, {
        runId: run.id,
      });
    }
  }
  await deps.store.deleteExport(id);
  await deps.store.deleteSnapshot(id);
  deps.logger.info('export deleted', { exportId: id, by: caller.id });
};

export interface ExportPermissions {
  canEdit: boolean;
  canRun: boolean;
}

export const permissionsFor = (caller: Caller, connections: readonly Connection[]): ExportPermissions => ({
  canEdit: can(caller, 'export:write', connections),
  canRun: connections.length > 0 && can(caller, 'run:start', connections),
});
