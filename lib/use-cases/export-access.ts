import { type Action, authorize, type Caller, can } from '#lib/domain/access.ts';
import type { Connection } from '#lib/domain/connection.ts';
import { NotFoundError, ValidationError } from '#lib/domain/errors.ts';
import type { ExportRecord } from '#lib/domain/export-record.ts';
import type { Connections } from '#lib/ports/connections.ts';
import type { Exports } from '#lib/ports/exports.ts';

export const getExportOrThrow = async (exports: Pick<Exports, 'get'>, id: string): Promise<ExportRecord> => {
  const exp = await exports.get(id);
  if (exp === undefined) throw new NotFoundError(`Export ${id} does not exist.`);
  return exp;
};

/** The connection an export (or an edit of it) points at; a missing one is a validation error. */
export const connectionFor = async (
  connections: Pick<Connections, 'get'>,
  connectionId: string | null,
): Promise<Connection[]> => {
  if (connectionId === null) return [];
  const connection = await connections.get(connectionId);
  if (connection === undefined)
    throw new ValidationError([{ path: 'connectionId', reason: 'no such connection' }]);
  return [connection];
};

/** The connections whose sharing decides whether `caller` may change or run `exp`. */
export const governingConnections = async (
  connections: Pick<Connections, 'get'>,
  exp: ExportRecord,
): Promise<Connection[]> => {
  if (exp.connectionId === null) return [];
  const connection = await connections.get(exp.connectionId);
  return connection === undefined ? [] : [connection];
};

/**
 * The one rule for every action on an export or its runs: the connection governing it decides (an
 * export that is gone, detached or whose connection was removed has none: admins only).
 */
export const authorizeOnExport = async (
  connections: Pick<Connections, 'get'>,
  caller: Caller,
  action: Action,
  exp: ExportRecord | undefined,
): Promise<void> => {
  authorize(caller, action, exp === undefined ? [] : await governingConnections(connections, exp));
};

export interface ExportPermissions {
  canEdit: boolean;
  canRun: boolean;
}

export const permissionsFor = (caller: Caller, connections: readonly Connection[]): ExportPermissions => ({
  canEdit: can(caller, 'export:write', connections),
  canRun: connections.length > 0 && can(caller, 'run:start', connections),
});

export interface RunPermissions {
  canCancel: boolean;
}

/** What the caller may do to a run, given the connections governing its export (none once it is deleted). */
export const runPermissionsFor = (caller: Caller, connections: readonly Connection[]): RunPermissions => ({
  canCancel: can(caller, 'run:cancel', connections),
});
