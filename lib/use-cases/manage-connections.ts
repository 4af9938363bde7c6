import * as z from 'zod';
import { authorize, type Caller } from '#lib/domain/access.ts';
import {
  ConflictError,
  FatalRunError,
  NotFoundError,
  TransientError,
  ValidationError,
} from '#lib/domain/errors.ts';
import { isTerminal } from '#lib/domain/run.ts';
import { parseOrThrow } from '#lib/domain/validation.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { Destination } from '#lib/ports/destination.ts';
import type { Logger } from '#lib/ports/logger.ts';
import type { SecretProvider } from '#lib/ports/secret-provider.ts';
import type { Connection, ExportRecord, StateStore } from '#lib/ports/state-store.ts';
import { endRun, type LifecycleDeps } from './run-lifecycle.ts';

export interface ConnectionDeps {
  store: StateStore;
  secrets: SecretProvider;
  destination: Destination;
  clock: Clock;
  logger: Logger;
  newId: () => string;
  /** Budget for connections created without one (deploy config). */
  defaultRatePerSecond?: number;
}

/** Removing a connection also ends runs, which needs the lifecycle's notifier. */
export type ConnectionRemovalDeps = ConnectionDeps & LifecycleDeps;

/** The data-privacy notice admins accept; a new version needs a new acceptance. */
export const PRIVACY_NOTICE_VERSION = '2026-11';
export const DEFAULT_RATE_PER_SECOND = 5;
export const DEFAULT_CONNECTION_CAP = 100_000;

const apiKey = z
  .string()
  .trim()
  .min(8, 'is too short to be an Autopilot API key')
  .max(256, 'is too long to be an Autopilot API key')
  .regex(/^[\x21-\x7e]+$/, 'must not contain spaces or non-printable characters');

export const CreateConnectionInputSchema = z
  .object({
    displayName: z.string().trim().min(1, 'must not be empty').max(200),
    apiKey,
    consent: z.object({
      accepted: z.literal(true, 'must be true: an admin has to accept the data-privacy notice'),
      noticeVersion: z.literal(
        PRIVACY_NOTICE_VERSION,
        `must be "${PRIVACY_NOTICE_VERSION}", the current notice`,
      ),
    }),
    sharing: z.enum(['admins', 'admins+contributors']).default('admins'),
    cap: z.number().int().positive().max(10_000_000).default(DEFAULT_CONNECTION_CAP),
    // Autopilot documents 5/s and raises it per account on request.
    ratePerSecond: z.number().positive().max(1000).default(DEFAULT_RATE_PER_SECOND),
  })
  .strict();
export type CreateConnectionInput = z.input<typeof CreateConnectionInputSchema>;

/** Autopilot refused the key (or could not be asked); the message says which. */
export class KeyVerificationError extends Error {
  override readonly name = 'KeyVerificationError';
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** Asks the destination whether a key works, with one cheap authenticated read. Never logs the key. */
export const verifyApiKey = async (destination: Destination, key: string): Promise<void> => {
  try {
    await destination.open(key).verify();
  } catch (error) {
    if (error instanceof FatalRunError) {
      throw new KeyVerificationError('Autopilot rejected this API key; check it and try again.', false);
    }
    if (error instanceof TransientError) {
      throw new KeyVerificationError(
        'Autopilot could not be reached to verify the key; try again shortly.',
        true,
      );
    }
    throw new KeyVerificationError(
      `Autopilot refused the verification request: ${(error as Error).message}`,
      false,
    );
  }
};

export const UpdateConnectionInputSchema = z
  .object({
    /** The version the caller last read; a concurrent edit makes the update fail with 409. */
    version: z.number().int().min(1),
    displayName: z.string().trim().min(1, 'must not be empty').max(200).optional(),
    sharing: z.enum(['admins', 'admins+contributors']).optional(),
    cap: z.number().int().positive().max(10_000_000).optional(),
    ratePerSecond: z.number().positive().max(1000).optional(),
  })
  .strict();

export const RotateKeyInputSchema = z.object({ apiKey }).strict();

const getOrThrow = async (store: StateStore, id: string): Promise<Connection> => {
  const connection = await store.getConnection(id);
  if (connection === undefined) throw new NotFoundError(`Connection ${id} does not exist.`);
  return connection;
};

const saveVersioned = async (
  store: StateStore,
  next: Connection,
  expectVersion: number,
): Promise<Connection> => {
  if (!(await store.putConnection(next, { expectVersion }))) {
    throw new ConflictError('The connection changed since you read it; reload and try again.');
  }
  return next;
};

/** Renames, re-shares, or changes the cap or rate budget of a connection (admins). */
export const updateConnection = async (
  deps: ConnectionDeps,
  id: string,
  input: unknown,
  caller: Caller,
): Promise<Connection> => {
  authorize(caller, 'connection:manage');
  const change = parseOrThrow(UpdateConnectionInputSchema, input);
  const current = await getOrThrow(deps.store, id);
  if (current.version !== change.version) {
    throw new ConflictError('The connection changed since you read it; reload and try again.', {
      currentVersion: current.version,
    });
  }
  const { version, ...fields } = change;
  const next: Connection = {
    ...current,
    ...fields,
    updatedBy: caller.id,
    updatedAt: new Date(deps.clock.now()).toISOString(),
    version: current.version + 1,
  };
  await saveVersioned(deps.store, next, version);
  deps.logger.info('connection updated', { connectionId: id, by: caller.id, fields: Object.keys(fields) });
  return next;
};

/** Replaces the API key after verifying the new one; a connection flagged for a rejected key is usable again. */
export const rotateKey = async (
  deps: ConnectionDeps,
  id: string,
  input: unknown,
  caller: Caller,
): Promise<Connection> => {
  authorize(caller, 'connection:manage');
  const { apiKey: key } = parseOrThrow(RotateKeyInputSchema, input);
  const current = await getOrThrow(deps.store, id);
  await verifyApiKey(deps.destination, key);
  await deps.secrets.putApiKey(id, key);
  deps.secrets.evict?.(id);
  const latest = await getOrThrow(deps.store, id);
  const next: Connection = {
    ...latest,
    status: 'active',
    updatedBy: caller.id,
    updatedAt: new Date(deps.clock.now()).toISOString(),
    version: latest.version + 1,
  };
  await saveVersioned(deps.store, next, latest.version);
  deps.logger.info('connection key rotated', { connectionId: id, by: caller.id, wasStatus: current.status });
  return next;
};

/** Exports that use a connection. */
export const exportsUsing = async (store: StateStore, connectionId: string): Promise<ExportRecord[]> =>
  (await store.listExports()).filter((e) => e.connectionId === connectionId);

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
  await getOrThrow(deps.store, id);
  const users = await exportsUsing(deps.store, id);
  if (users.length > 0 && !options.detach) {
    throw new ConflictError(
      `${users.length} export(s) use this connection; detach them (detach=true) or move them first.`,
      { exports: users.map((e) => ({ id: e.id, name: e.name })) },
    );
  }
  const now = new Date(deps.clock.now()).toISOString();
  const detached: string[] = [];
  const cancelledRuns: string[] = [];
  for (const exp of users) {
    await detachExport(deps.store, exp.id, id, caller, now);
    detached.push(exp.id);
  }
  for (const exp of users) {
    if (exp.activeRunId === undefined) continue;
    const run = await deps.store.getRun(exp.activeRunId);
    if (run === undefined || isTerminal(run.status)) continue;
    await deps.store.requestCancel(run.id);
    if (await endRun(deps, run, 'cancelled', 'The connection was removed while the run was in progress.')) {
      cancelledRuns.push(run.id);
    }
  }
  await deps.store.deleteConnection(id);
  await deps.secrets.deleteApiKey(id);
  deps.logger.info('connection removed', { connectionId: id, by: caller.id, detached, cancelledRuns });
  return { detached, cancelledRuns };
};

const detachExport = async (
  store: StateStore,
  exportId: string,
  connectionId: string,
  caller: Caller,
  now: string,
): Promise<void> => {
  for (let attempt = 0; attempt < 5; attempt++) {
    const exp = await store.getExport(exportId);
    if (exp === undefined || exp.connectionId !== connectionId) return;
    const next: ExportRecord = {
      ...exp,
      connectionId: null,
      updatedBy: caller.id,
      updatedAt: now,
      version: exp.version + 1,
    };
    if (await store.putExport(next, { expectVersion: exp.version })) return;
  }
  throw new ConflictError(`Export ${exportId} kept changing while it was being detached; try again.`);
};

/**
 * Creates a connection: refuses without consent, verifies the key against Autopilot, keeps the key
 * only in the secret store and records who consented and when. The returned record has no key.
 */
export const createConnection = async (
  deps: ConnectionDeps,
  input: unknown,
  caller: Caller,
): Promise<Connection> => {
  authorize(caller, 'connection:manage');
  const actor = caller.id;
  const parsed = parseOrThrow(CreateConnectionInputSchema, input);
  await verifyApiKey(deps.destination, parsed.apiKey);
  const now = new Date(deps.clock.now()).toISOString();
  const connection: Connection = {
    id: deps.newId(),
    displayName: parsed.displayName,
    type: 'autopilot',
    status: 'active',
    consent: { acceptedBy: actor, acceptedAt: now, noticeVersion: parsed.consent.noticeVersion },
    sharing: parsed.sharing,
    cap: parsed.cap,
    ratePerSecond: parsed.ratePerSecond ?? deps.defaultRatePerSecond ?? DEFAULT_RATE_PER_SECOND,
    bulkMembership: { state: 'unknown' },
    createdBy: actor,
    createdAt: now,
    updatedBy: actor,
    updatedAt: now,
    version: 1,
  };
  await deps.secrets.putApiKey(connection.id, parsed.apiKey);
  try {
    if (!(await deps.store.putConnection(connection, { expectNew: true }))) {
      throw new ValidationError([{ path: 'id', reason: 'a connection with this id already exists' }]);
    }
  } catch (error) {
    await deps.secrets.deleteApiKey(connection.id);
    throw error;
  }
  deps.logger.info('connection created', {
    connectionId: connection.id,
    by: actor,
    sharing: connection.sharing,
  });
  return connection;
};
