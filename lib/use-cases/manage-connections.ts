import { authorize, type Caller } from '#lib/domain/access.ts';
import { type Connection, type DestinationAddress, keyHintOf } from '#lib/domain/connection.ts';
import { ConflictError, NotFoundError, ValidationError } from '#lib/domain/errors.ts';
import { parseOrThrow } from '#lib/domain/validation.ts';
import type { AuditTrail } from '#lib/ports/audit-trail.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { Connections } from '#lib/ports/connections.ts';
import type { Destinations } from '#lib/ports/destination.ts';
import type { Exports } from '#lib/ports/exports.ts';
import type { Logger } from '#lib/ports/logger.ts';
import type { Runs } from '#lib/ports/runs.ts';
import type { SecretProvider } from '#lib/ports/secret-provider.ts';
import type { Snapshots } from '#lib/ports/snapshots.ts';
import { recordAudit } from './audit.ts';
import { checkApiKey } from './check-api-key.ts';
import {
  CreateConnectionInputSchema,
  refuseAddressChange,
  UpdateConnectionInputSchema,
} from './connection-inputs.ts';

export interface ConnectionDeps {
  connections: Connections;
  exports: Exports;
  runs: Runs;
  snapshots: Snapshots;
  audit: Pick<AuditTrail, 'append'>;
  secrets: SecretProvider;
  destinations: Destinations;
  clock: Clock;
  logger: Logger;
  newId: () => string;
  /** Budget for connections created without one (deploy config); else the destination's documented rate. */
  defaultRatePerSecond?: number;
  /**
   * Longest wait for the destination to answer a key check, well inside the API function's timeout (a
   * slow answer is a 503 the admin can retry, never a function timeout).
   */
  keyCheckTimeoutMs?: number;
}

export const getConnectionOrThrow = async (
  connections: Pick<Connections, 'get'>,
  id: string,
): Promise<Connection> => {
  const connection = await connections.get(id);
  if (connection === undefined) throw new NotFoundError(`Connection ${id} does not exist.`);
  return connection;
};

export const stale = (): ConflictError =>
  new ConflictError('The connection changed since you read it; reload and try again.');

/** Renames, re-shares, names its export users, or changes the cap or rate budget of a connection (admins). */
export const updateConnection = async (
  deps: ConnectionDeps,
  id: string,
  input: unknown,
  caller: Caller,
): Promise<Connection> => {
  authorize(caller, 'connection:manage');
  refuseAddressChange(input);
  const { version, ...fields } = parseOrThrow(UpdateConnectionInputSchema, input);
  const current = await getConnectionOrThrow(deps.connections, id);
  if (current.version !== version) {
    throw new ConflictError('The connection changed since you read it; reload and try again.', {
      currentVersion: current.version,
    });
  }
  const next = await deps.connections.revise(id, version, fields, {
    by: caller.id,
    at: new Date(deps.clock.now()).toISOString(),
  });
  if (next === undefined) throw stale();
  deps.logger.info('connection updated', { connectionId: id, by: caller.id, fields: Object.keys(fields) });
  await recordAudit(deps, caller, {
    action: 'connection.updated',
    resource: { type: 'connection', id },
    states: { before: current, after: next },
  });
  return next;
};

/** Where a new connection points: Ortto's region defaults to `global`; Autopilot has none. */
const addressOf = (input: { type: Connection['type']; region?: Connection['region'] }): DestinationAddress =>
  input.type === 'ortto' ? { type: 'ortto', region: input.region ?? 'global' } : { type: 'autopilot' };

/**
 * Creates a connection to Autopilot or Ortto: refuses without consent, verifies the key with its own
 * destination (and, for Ortto, region), keeps the key only in the secret store and records who
 * consented and when. The returned record has no key, only its hint (its last characters, for
 * admins to recognise it).
 */
export const createConnection = async (
  deps: ConnectionDeps,
  input: unknown,
  caller: Caller,
): Promise<Connection> => {
  authorize(caller, 'connection:manage');
  const actor = caller.id;
  const parsed = parseOrThrow(CreateConnectionInputSchema, input);
  const address = addressOf(parsed);
  await checkApiKey(deps, parsed.apiKey, address);
  const now = new Date(deps.clock.now()).toISOString();
  const keyHint = keyHintOf(parsed.apiKey);
  const connection: Connection = {
    id: deps.newId(),
    displayName: parsed.displayName,
    ...address,
    status: 'active',
    ...(keyHint === undefined ? {} : { keyHint }),
    consent: { acceptedBy: actor, acceptedAt: now, noticeVersion: parsed.consent.noticeVersion },
    sharing: parsed.sharing,
    exportUsers: parsed.exportUsers,
    cap: parsed.cap,
    ratePerSecond:
      parsed.ratePerSecond ??
      deps.defaultRatePerSecond ??
      deps.destinations.for(address).costs.documentedRatePerSecond,
    bulkMembership: { state: 'unknown' },
    createdBy: actor,
    createdAt: now,
    updatedBy: actor,
    updatedAt: now,
    version: 1,
  };
  await deps.secrets.putApiKey(connection.id, parsed.apiKey);
  try {
    if (!(await deps.connections.create(connection))) {
      throw new ValidationError([{ path: 'id', reason: 'a connection with this id already exists' }]);
    }
  } catch (error) {
    await deps.secrets.deleteApiKey(connection.id);
    throw error;
  }
  deps.logger.info('connection created', {
    connectionId: connection.id,
    by: actor,
    ...address,
    sharing: connection.sharing,
  });
  await recordAudit(deps, caller, {
    action: 'connection.created',
    resource: { type: 'connection', id: connection.id },
    states: { after: connection },
  });
  return connection;
};
