import * as z from 'zod';
import { authorize, type Caller } from '#lib/domain/access.ts';
import { ConflictError, ValidationError } from '#lib/domain/errors.ts';
import type { ExportConfig } from '#lib/domain/export-config.ts';
import type { ExportRecord } from '#lib/domain/export-record.ts';
import { parseOrThrow, toIssues } from '#lib/domain/validation.ts';
import type { AuditTrail } from '#lib/ports/audit-trail.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { Connections } from '#lib/ports/connections.ts';
import type { Destinations } from '#lib/ports/destination.ts';
import type { Exports } from '#lib/ports/exports.ts';
import type { Logger } from '#lib/ports/logger.ts';
import type { Runs } from '#lib/ports/runs.ts';
import type { SegmentSource } from '#lib/ports/segment-source.ts';
import type { Snapshots } from '#lib/ports/snapshots.ts';
import type { TargetOwners } from '#lib/ports/target-owners.ts';
import { recordAudit } from './audit.ts';
import { refuseKnownOverCap } from './cap-on-save.ts';
import { authorizeOnExport, connectionFor, getExportOrThrow } from './export-access.ts';
import {
  checkAgainstSegments,
  checkMembershipMode,
  ExportInputSchema,
  fullDocument,
  UpdateExportInputSchema,
} from './export-checks.ts';
import { authorizeAdoption, releaseUnused, reserveTargets } from './export-targets.ts';
import { checkWebhookUrl, syncWebhookSecret, type WebhookDeps } from './webhook-secret.ts';

export interface ExportDeps extends WebhookDeps {
  exports: Exports;
  connections: Pick<Connections, 'get'>;
  runs: Pick<Runs, 'get'>;
  snapshots: Pick<Snapshots, 'delete'>;
  targets: TargetOwners;
  audit: Pick<AuditTrail, 'append'>;
  segments: SegmentSource;
  /** Which membership modes each connection's destination has. */
  destinations: Destinations;
  clock: Clock;
  logger: Logger;
  newId: () => string;
}

const now = (clock: Clock): string => new Date(clock.now()).toISOString();

/** The one versioned edit: applied if nobody changed the export since the caller read it, else a 409. */
const reviseOrConflict = async (
  deps: ExportDeps,
  id: string,
  expectVersion: number,
  edit: Partial<ExportConfig>,
  caller: Caller,
): Promise<ExportRecord> => {
  const next = await deps.exports.revise(id, expectVersion, edit, { by: caller.id, at: now(deps.clock) });
  if (next === undefined)
    throw new ConflictError('The export changed since you read it; reload and try again.');
  return next;
};

/** A saved export, and its webhook's signing secret when this save made one (shown this once). */
export type SavedExport = ExportRecord & { webhookSecret?: string };

/** Saves a new export. Saving never runs it. */
export const createExport = async (
  deps: ExportDeps,
  input: unknown,
  caller: Caller,
): Promise<SavedExport> => {
  const config = parseOrThrow(ExportInputSchema.strict(), input);
  checkWebhookUrl(deps, config.notifications?.webhookUrl);
  const connections = await connectionFor(deps.connections, config.connectionId);
  authorize(caller, 'export:write', connections);
  checkMembershipMode(deps.destinations, config, connections[0]);
  authorizeAdoption(caller, config.adoptExistingLists, false);
  const segments = await checkAgainstSegments(deps, config);
  await refuseKnownOverCap(deps, config);
  const id = deps.newId();
  await reserveTargets(deps, id, config, segments);
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
  if (!(await deps.exports.create(record))) {
    if (config.connectionId !== null) await deps.targets.release(config.connectionId, id);
    throw new ConflictError('An export with this id already exists.');
  }
  // A connection removed since the check above did not see this export (deleteConnection sweeps
  // again after removing it, so one of the two always notices).
  if (config.connectionId !== null && (await deps.connections.get(config.connectionId)) === undefined) {
    await deps.exports.delete(record.id);
    await deps.targets.release(config.connectionId, record.id);
    throw new ConflictError(
      'The connection was removed while the export was being saved; nothing was saved.',
      {
        code: 'connection_removed',
      },
    );
  }
  deps.logger.info('export created', { exportId: record.id, by: caller.id });
  await recordAudit(deps, caller, {
    action: 'export.created',
    resource: { type: 'export', id: record.id },
    states: { after: record },
  });
  const webhookSecret = await syncWebhookSecret(deps, record.id, undefined, config.notifications?.webhookUrl);
  return webhookSecret === undefined ? record : { ...record, webhookSecret };
};

export const updateExport = async (
  deps: ExportDeps,
  id: string,
  input: unknown,
  caller: Caller,
): Promise<SavedExport> => {
  const current = await getExportOrThrow(deps.exports, id);
  await authorizeOnExport(deps.connections, caller, 'export:write', current);
  const missing = fullDocument(input);
  const parsed = UpdateExportInputSchema.safeParse(input);
  if (!parsed.success || missing.length > 0) {
    throw new ValidationError([...missing, ...(parsed.success ? [] : toIssues(parsed.error))]);
  }
  const { version, ...rest } = parsed.data;
  // A PUT replaces the whole document: notifications left out means no webhook.
  const config = { ...rest, notifications: rest.notifications ?? {} };
  checkWebhookUrl(deps, config.notifications.webhookUrl);
  const connections = await connectionFor(deps.connections, config.connectionId);
  authorize(caller, 'export:write', connections);
  if (version !== current.version) {
    throw new ConflictError('The export changed since you read it; reload and try again.', {
      currentVersion: current.version,
    });
  }
  // Also when it attaches a detached export: its mode must suit the connection it is attached to.
  checkMembershipMode(deps.destinations, config, connections[0]);
  authorizeAdoption(caller, config.adoptExistingLists, current.adoptExistingLists);
  const segments = await checkAgainstSegments(deps, config);
  await refuseKnownOverCap(deps, config);
  await reserveTargets(deps, id, config, segments);
  const next = await reviseOrConflict(deps, id, current.version, config, caller);
  await releaseUnused(deps.targets, id, current, { config, segments });
  deps.logger.info('export updated', { exportId: id, by: caller.id });
  await recordAudit(deps, caller, {
    action: 'export.updated',
    resource: { type: 'export', id },
    states: { before: current, after: next },
  });
  const webhookSecret = await syncWebhookSecret(
    deps,
    id,
    current.notifications?.webhookUrl,
    next.notifications?.webhookUrl,
  );
  return webhookSecret === undefined ? next : { ...next, webhookSecret };
};

export const setSchedule = async (
  deps: ExportDeps,
  id: string,
  input: unknown,
  caller: Caller,
): Promise<ExportRecord> => {
  const { scheduled } = parseOrThrow(z.object({ scheduled: z.boolean() }).strict(), input);
  const current = await getExportOrThrow(deps.exports, id);
  await authorizeOnExport(deps.connections, caller, 'export:write', current);
  const next = await reviseOrConflict(deps, id, current.version, { scheduled }, caller);
  deps.logger.info('export schedule changed', { exportId: id, scheduled, by: caller.id });
  await recordAudit(deps, caller, {
    action: 'export.updated',
    resource: { type: 'export', id },
    states: { before: current, after: next },
  });
  return next;
};
