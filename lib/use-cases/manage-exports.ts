import * as z from 'zod';
import { type Action, authorize, type Caller, can } from '#lib/domain/access.ts';
import { ConflictError, NotFoundError, ValidationError } from '#lib/domain/errors.ts';
import {
  DataMatchingSchema,
  type ExportConfig,
  ExportConfigSchema,
  listTitle,
  membershipFieldName,
} from '#lib/domain/export-config.ts';
import { isTerminal } from '#lib/domain/run.ts';
import {
  type Issue,
  idText,
  nameText,
  omittedDefaults,
  parseOrThrow,
  toIssues,
} from '#lib/domain/validation.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { Logger } from '#lib/ports/logger.ts';
import type { SegmentInfo, SegmentSource } from '#lib/ports/segment-source.ts';
import type { Connection, ExportRecord, StateStore } from '#lib/ports/state-store.ts';
import { authorizeAdoption, releaseUnused, reserveTargets } from './export-targets.ts';

export interface ExportDeps {
  store: StateStore;
  segments: SegmentSource;
  clock: Clock;
  logger: Logger;
  newId: () => string;
}

/**
 * An export configuration as a person sends it: the stored shape, with names free of control
 * characters and ids bounded. Records are read back with the stored shape, so one saved before
 * these rules stays readable.
 */
export const ExportInputSchema = ExportConfigSchema.safeExtend({
  name: nameText(200),
  connectionId: idText().nullable(),
  // Keys are checked against the selected segments by the stored shape's refinement.
  listTitles: z.record(z.string(), nameText(200)).default({}),
});

/** Every selected segment must exist in the source; the error names each missing one by path. */
export const checkSegmentsExist = async (
  segments: SegmentSource,
  ids: readonly string[],
): Promise<SegmentInfo[]> => {
  const missing: Issue[] = [];
  const found: SegmentInfo[] = [];
  for (const [i, id] of ids.entries()) {
    const segment = await segments.getSegment(id);
    if (segment === undefined) {
      missing.push({ path: `segmentIds.${i}`, reason: `no segment "${id}" exists in the segment source` });
    } else found.push(segment);
  }
  if (missing.length > 0) throw new ValidationError(missing);
  return found;
};

/**
 * Each segment needs its own list (or membership field): two sharing one would merge into it, and
 * one segment's leavers would come off the other's list. Names both, whether the clash is explicit
 * or comes from two segments with the same name.
 */
const checkDistinctTargets = (config: ExportConfig, segments: readonly SegmentInfo[]): void => {
  const list = config.membership === 'list';
  const field = list ? 'listTitles' : 'membershipFields';
  const target = (s: SegmentInfo) => (list ? listTitle(config, s) : membershipFieldName(config, s));
  // Custom fields are matched without regard to case; list titles exactly.
  const key = (s: SegmentInfo) => (list ? target(s) : target(s).toLowerCase());
  const what = list ? 'list title' : 'membership field';
  const issues = segments.flatMap((s) => {
    const others = segments.filter((o) => o.id !== s.id && key(o) === key(s)).map((o) => `"${o.id}"`);
    if (others.length === 0) return [];
    const reason = `segment ${others.join(', ')} has the same ${what} "${target(s)}"; give each segment its own`;
    return [{ path: `${field}.${s.id}`, reason }];
  });
  if (issues.length > 0) throw new ValidationError(issues);
};

/** What a saved configuration is checked against beyond its schema: the segments it selects. */
const checkAgainstSegments = async (deps: ExportDeps, config: ExportConfig): Promise<SegmentInfo[]> => {
  const segments = await checkSegmentsExist(deps.segments, config.segmentIds);
  checkDistinctTargets(config, segments);
  return segments;
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

/**
 * The one rule for every action on an export or its runs: the connection governing it decides (an
 * export that is gone, detached or whose connection was removed has none: admins only).
 */
export const authorizeOnExport = async (
  store: StateStore,
  caller: Caller,
  action: Action,
  exp: ExportRecord | undefined,
): Promise<void> => {
  authorize(caller, action, exp === undefined ? [] : await governingConnections(store, exp));
};

const now = (clock: Clock): string => new Date(clock.now()).toISOString();

/** Saves a new export. Saving never runs it. */
export const createExport = async (
  deps: ExportDeps,
  input: unknown,
  caller: Caller,
): Promise<ExportRecord> => {
  const config = parseOrThrow(ExportInputSchema.strict(), input);
  authorize(caller, 'export:write', await connectionFor(deps.store, config.connectionId));
  authorizeAdoption(caller, config.adoptExistingLists, false);
  const segments = await checkAgainstSegments(deps, config);
  const id = deps.newId();
  await reserveTargets(deps.store, id, config, segments);
  const at = now(deps.clock);
  const record: ExportRecord = {
    ...config,
    id,
    createdBy: caller.id,
    createdAt: at,
    updatedBy: caller.id,
    updatedAt: at,
    version: 1,
  };
  if (!(await deps.store.putExport(record, { expectNew: true }))) {
    if (config.connectionId !== null) await deps.store.releaseTargets(config.connectionId, id);
    throw new ConflictError('An export with this id already exists.');
  }
  // A connection removed since the check above did not see this export (deleteConnection sweeps
  // again after removing it, so one of the two always notices).
  if (config.connectionId !== null && (await deps.store.getConnection(config.connectionId)) === undefined) {
    await deps.store.deleteExport(record.id);
    await deps.store.releaseTargets(config.connectionId, record.id);
    throw new ConflictError(
      'The connection was removed while the export was being saved; nothing was saved.',
      {
        code: 'connection_removed',
      },
    );
  }
  deps.logger.info('export created', { exportId: record.id, by: caller.id });
  return record;
};

/**
 * The whole configuration, as the editor saves it: every field is sent (a field left out would
 * silently reset to its default), nothing unknown; `version` guards concurrent edits.
 */
export const UpdateExportInputSchema = ExportInputSchema.safeExtend({
  version: z.number().int().min(1),
}).strict();

const fullDocument = (input: unknown): Issue[] => {
  const dataMatching =
    typeof input === 'object' && input !== null ? (input as Record<string, unknown>).dataMatching : undefined;
  return [
    ...omittedDefaults(ExportConfigSchema.shape, input),
    ...omittedDefaults(DataMatchingSchema.shape, dataMatching, 'dataMatching'),
  ];
};

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
  await authorizeOnExport(deps.store, caller, 'export:write', current);
  const missing = fullDocument(input);
  const parsed = UpdateExportInputSchema.safeParse(input);
  if (!parsed.success || missing.length > 0) {
    throw new ValidationError([...missing, ...(parsed.success ? [] : toIssues(parsed.error))]);
  }
  const { version, ...config } = parsed.data;
  authorize(caller, 'export:write', await connectionFor(deps.store, config.connectionId));
  if (version !== current.version) {
    throw new ConflictError('The export changed since you read it; reload and try again.', {
      currentVersion: current.version,
    });
  }
  authorizeAdoption(caller, config.adoptExistingLists, current.adoptExistingLists);
  const segments = await checkAgainstSegments(deps, config);
  await reserveTargets(deps.store, id, config, segments);
  const next: ExportRecord = {
    ...current,
    ...config,
    updatedBy: caller.id,
    updatedAt: now(deps.clock),
    version: current.version + 1,
  };
  await saveEdit(deps, next, current.version);
  await releaseUnused(deps.store, id, current, { config, segments });
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
  await authorizeOnExport(deps.store, caller, 'export:write', current);
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

/**
 * A copy with a new id, unscheduled and with no run history, for the caller to adapt. It reserves no
 * lists: it names the same ones as its source, so it runs only once its list titles are changed.
 */
export const duplicateExport = async (
  deps: ExportDeps,
  id: string,
  caller: Caller,
): Promise<ExportRecord> => {
  const source = await getExportOrThrow(deps.store, id);
  await authorizeOnExport(deps.store, caller, 'export:write', source);
  const { activeRunId: _run, activeDryRunId: _dry, lastRun: _last, id: _id, version: _v, ...config } = source;
  const at = now(deps.clock);
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
  await deps.store.putExport(copy, { expectNew: true });
  deps.logger.info('export duplicated', { exportId: copy.id, from: id, by: caller.id });
  return copy;
};

/**
 * Deletes an export, the snapshot of what it sent (email keys are personal data) and its hold on
 * list titles and membership fields. Refused while a run is active: cancel it first. Autopilot lists
 * are left as they are. The delete is conditional on the run lock the check saw, so a run that
 * starts meanwhile makes it a 409, and of concurrent deletes exactly one succeeds (the others 404).
 */
export const deleteExport = async (deps: ExportDeps, id: string, caller: Caller): Promise<void> => {
  const current = await getExportOrThrow(deps.store, id);
  await authorizeOnExport(deps.store, caller, 'export:write', current);
  if (current.activeRunId !== undefined) {
    const run = await deps.store.getRun(current.activeRunId);
    if (run !== undefined && !isTerminal(run.status)) {
      throw new ConflictError(`Run ${run.id} of this export is in progress; cancel it first.`, {
        runId: run.id,
      });
    }
  }
  if (!(await deps.store.deleteExport(id, { activeRunId: current.activeRunId }))) {
    const latest = await deps.store.getExport(id);
    if (latest === undefined) throw new NotFoundError(`Export ${id} does not exist.`);
    throw new ConflictError('A run of this export started while it was being deleted; cancel it first.', {
      runId: latest.activeRunId,
    });
  }
  await deps.store.deleteSnapshot(id);
  if (current.connectionId !== null) await deps.store.releaseTargets(current.connectionId, id);
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
