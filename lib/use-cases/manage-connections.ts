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
import { nameText, parseOrThrow } from '#lib/domain/validation.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { Destination, ListRef } from '#lib/ports/destination.ts';
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
  /**
   * Longest wait for Autopilot to answer a key check, well inside the API function's timeout (a
   * slow answer is a 503 the admin can retry, never a function timeout).
   */
  keyCheckTimeoutMs?: number;
}

/** Removing a connection also ends runs, which needs the lifecycle's notifier. */
export type ConnectionRemovalDeps = ConnectionDeps & LifecycleDeps;

/** The data-privacy notice admins accept; a new version needs a new acceptance. */
export const PRIVACY_NOTICE_VERSION = '2026-11';
export const DEFAULT_RATE_PER_SECOND = 5;
export const DEFAULT_CONNECTION_CAP = 100_000;
export const DEFAULT_KEY_CHECK_TIMEOUT_MS = 6_000;

/**
 * Requests per second a connection may use. Autopilot documents 5/s and raises it per account on
 * request; below 0.1/s (one request in 10 s) a batch could not finish within a sender's lifetime.
 */
const ratePerSecond = z
  .number()
  .min(0.1, 'must be at least 0.1 (one request every 10 seconds)')
  .max(1000, 'must be at most 1000');

const apiKey = z
  .string()
  .trim()
  .min(8, 'is too short to be an Autopilot API key')
  .max(256, 'is too long to be an Autopilot API key')
  .regex(/^[\x21-\x7e]+$/, 'must not contain spaces or non-printable characters');

export const CreateConnectionInputSchema = z
  .object({
    displayName: nameText(200),
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
    // No default here: the deployment's default applies (createConnection).
    ratePerSecond: ratePerSecond
      .optional()
      .meta({ description: "Default: the deployment's defaultRatePerSecond (5 unless configured)." }),
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

const LATE = Symbol('late');

/** `work` within the key-check deadline (real time: it guards the API function's own timeout). */
const withinDeadline = async <T>(ms: number, work: Promise<T>): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<typeof LATE>((resolve) => {
    timer = setTimeout(() => resolve(LATE), ms);
  });
  try {
    const result = await Promise.race([work, late]);
    if (result === LATE) throw new TransientError(`Autopilot did not answer within ${ms} ms`);
    return result;
  } finally {
    clearTimeout(timer);
  }
};

/**
 * Asks the destination whether a key works, with one cheap authenticated read (the account's lists,
 * which rotate-key compares), within the key-check deadline. Never logs the key.
 */
export const checkApiKey = async (deps: ConnectionDeps, key: string): Promise<ListRef[]> => {
  const ms = deps.keyCheckTimeoutMs ?? DEFAULT_KEY_CHECK_TIMEOUT_MS;
  try {
    return await withinDeadline(ms, deps.destination.open(key).findLists());
  } catch (error) {
    if (error instanceof FatalRunError) {
      throw new KeyVerificationError('Autopilot rejected this API key; check it and try again.', false);
    }
    if (error instanceof TransientError) {
      const status = error.details.status;
      throw new KeyVerificationError(
        status === undefined
          ? 'Autopilot did not answer in time; try again.'
          : `Autopilot could not check the key right now (it answered ${status}); try again shortly.`,
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
    displayName: nameText(200).optional(),
    sharing: z.enum(['admins', 'admins+contributors']).optional(),
    cap: z.number().int().positive().max(10_000_000).optional(),
    ratePerSecond: ratePerSecond.optional(),
  })
  .strict();

export const RotateKeyInputSchema = z
  .object({
    apiKey,
    newAccount: z
      .boolean()
      .optional()
      .meta({
        description:
          'Confirms the key opens a different Autopilot account: every export on the connection forgets what it ' +
          'sent and sends everything again on its next run.',
      }),
  })
  .strict();

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

/**
 * A key of another Autopilot account: the exports remember lists, and not one of them exists in
 * the account the key opens. Their snapshots would claim contacts are on lists that do not exist.
 */
const refuseAnotherAccount = async (store: StateStore, exports: ExportRecord[], lists: ListRef[]) => {
  const remembered = (await Promise.all(exports.map((e) => store.snapshotLists(e.id)))).flatMap((m) =>
    Object.values(m),
  );
  const known = new Set(lists.map((l) => l.id));
  if (remembered.length === 0 || remembered.some((id) => known.has(id))) return;
  throw new ConflictError(
    `This key opens a different Autopilot account: none of the ${remembered.length} list(s) this connection's ` +
      'exports have filled exist there. To switch accounts, send the key again with "newAccount": true; each ' +
      'export then forgets what it sent and sends everything again on its next run.',
    { code: 'different_account', exports: exports.map((e) => e.id) },
  );
};

const refuseWhileRunning = async (store: StateStore, exports: ExportRecord[]): Promise<void> => {
  for (const exp of exports) {
    const run = exp.activeRunId === undefined ? undefined : await store.getRun(exp.activeRunId);
    if (run !== undefined && !isTerminal(run.status)) {
      throw new ConflictError(`Run ${run.id} of export "${exp.name}" is in progress; cancel it first.`, {
        code: 'run_in_progress',
        runId: run.id,
      });
    }
  }
};

/**
 * Replaces the API key after checking the new one; a connection flagged for a rejected key is usable
 * again. A key of another account is refused unless the admin confirms it (`newAccount`), which
 * resets what the connection's exports remember of the old account.
 */
export const rotateKey = async (
  deps: ConnectionDeps,
  id: string,
  input: unknown,
  caller: Caller,
): Promise<Connection> => {
  authorize(caller, 'connection:manage');
  const { apiKey: key, newAccount = false } = parseOrThrow(RotateKeyInputSchema, input);
  const current = await getOrThrow(deps.store, id);
  const lists = await checkApiKey(deps, key);
  const exports = await exportsUsing(deps.store, id);
  if (newAccount) await refuseWhileRunning(deps.store, exports);
  else await refuseAnotherAccount(deps.store, exports, lists);
  await deps.secrets.putApiKey(id, key);
  deps.secrets.evict?.(id);
  if (newAccount) {
    for (const exp of exports) await deps.store.deleteSnapshot(exp.id);
    await deps.store.resetBulkMembership(id);
  }
  await deps.store.setConnectionStatus(id, 'active');
  const latest = await getOrThrow(deps.store, id);
  const next: Connection = {
    ...latest,
    updatedBy: caller.id,
    updatedAt: new Date(deps.clock.now()).toISOString(),
    version: latest.version + 1,
  };
  await saveVersioned(deps.store, next, latest.version);
  deps.logger.info('connection key rotated', {
    connectionId: id,
    by: caller.id,
    wasStatus: current.status,
    ...(newAccount ? { newAccount, snapshotsReset: exports.map((e) => e.id) } : {}),
  });
  return getOrThrow(deps.store, id);
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
  // An export saved on it after the listing above (createExport checks again after saving, so one
  // of the two always sees the other) must not point at a connection that is gone.
  for (const exp of await exportsUsing(deps.store, id)) {
    await detachExport(deps.store, exp.id, id, caller, now);
    detached.push(exp.id);
  }
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
  await checkApiKey(deps, parsed.apiKey);
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
