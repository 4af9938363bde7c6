import { authorize, type Caller } from '#lib/domain/access.ts';
import { type Connection, keyHintOf } from '#lib/domain/connection.ts';
import { ConflictError } from '#lib/domain/errors.ts';
import type { ExportRecord } from '#lib/domain/export-record.ts';
import { isTerminal } from '#lib/domain/run.ts';
import { parseOrThrow } from '#lib/domain/validation.ts';
import type { ConnectionEdit } from '#lib/ports/connections.ts';
import type { Runs } from '#lib/ports/runs.ts';
import type { Snapshots } from '#lib/ports/snapshots.ts';
import { recordAudit } from './audit.ts';
import { checkApiKey, type KeyCheck } from './check-api-key.ts';
import { RotateKeyInputSchema, refuseAddressChange } from './connection-inputs.ts';
import { type ConnectionDeps, getConnectionOrThrow, stale } from './manage-connections.ts';
import { exportsUsing } from './remove-connection.ts';

/**
 * A key of another Autopilot account: the exports remember lists, and not one of them exists in
 * the account the key opens. Their snapshots would claim contacts are on lists that do not exist.
 * Ortto keys are not compared: Ortto has no "whoami" and no read that tells accounts apart (tags
 * exist from their first use, so a missing one proves nothing); there only `newAccount` says the
 * account changed.
 */
const refuseAnotherAccount = async (
  snapshots: Snapshots,
  exports: readonly ExportRecord[],
  check: KeyCheck,
): Promise<void> => {
  if (check.type !== 'autopilot') return;
  const { lists } = check;
  const remembered = (await Promise.all(exports.map((e) => snapshots.lists(e.id)))).flatMap((m) =>
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

const refuseWhileRunning = async (runs: Runs, exports: readonly ExportRecord[]): Promise<void> => {
  for (const exp of exports) {
    const run = exp.activeRunId === undefined ? undefined : await runs.get(exp.activeRunId);
    if (run !== undefined && !isTerminal(run.status)) {
      throw new ConflictError(`Run ${run.id} of export "${exp.name}" is in progress; cancel it first.`, {
        code: 'run_in_progress',
        runId: run.id,
      });
    }
  }
};

/**
 * Replaces the API key after checking the new one with the connection's own destination and region;
 * a connection flagged for a rejected key is usable again. A key of another Autopilot account is
 * refused unless the admin confirms it (`newAccount`), which resets what the connection's exports
 * remember of the old account (on Ortto, where no check can tell, `newAccount` alone does).
 */
export const rotateKey = async (
  deps: ConnectionDeps,
  id: string,
  input: unknown,
  caller: Caller,
): Promise<Connection> => {
  authorize(caller, 'connection:manage');
  refuseAddressChange(input);
  const { apiKey: key, newAccount = false } = parseOrThrow(RotateKeyInputSchema, input);
  const current = await getConnectionOrThrow(deps.connections, id);
  const check = await checkApiKey(deps, key, current);
  const exports = await exportsUsing(deps.exports, id);
  if (newAccount) await refuseWhileRunning(deps.runs, exports);
  else await refuseAnotherAccount(deps.snapshots, exports, check);
  await deps.secrets.putApiKey(id, key);
  deps.secrets.evict?.(id);
  if (newAccount) {
    for (const exp of exports) await deps.snapshots.delete(exp.id);
    await deps.connections.resetBulkMembership(id);
  }
  await deps.connections.setStatus(id, 'active');
  const latest = await getConnectionOrThrow(deps.connections, id);
  // A rotation is an admin's edit of the connection: recorded as such (who, when, a new version).
  // Every key the API accepts has a hint (8+ characters), so the old key's hint never survives.
  const edit: ConnectionEdit = { keyHint: keyHintOf(key) };
  const next = await deps.connections.revise(id, latest.version, edit, {
    by: caller.id,
    at: new Date(deps.clock.now()).toISOString(),
  });
  if (next === undefined) throw stale();
  deps.logger.info('connection key rotated', {
    connectionId: id,
    by: caller.id,
    wasStatus: current.status,
    ...(newAccount ? { newAccount, snapshotsReset: exports.map((e) => e.id) } : {}),
  });
  await recordAudit(deps, caller, {
    action: 'connection.key_rotated',
    resource: { type: 'connection', id },
    states: { before: current, after: next },
    secrets: ['apiKey'],
    ...(newAccount ? { detail: { newAccount, snapshotsReset: exports.map((e) => e.id) } } : {}),
  });
  return next;
};
