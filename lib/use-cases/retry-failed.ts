import { authorize, type Caller } from '#lib/domain/access.ts';
import { ConflictError } from '#lib/domain/errors.ts';
import { isTerminal, MAX_NAMED_CONTACTS } from '#lib/domain/run.ts';
import type { BatchLedger } from '#lib/ports/batch-ledger.ts';
import type { AuditDeps } from './audit.ts';
import { getExportOrThrow } from './export-access.ts';
import { getRunOrThrow, runGoverningConnections } from './manage-runs.ts';
import { startNamedRun } from './resend.ts';
import type { StartRunDeps, StartRunResult } from './start-run.ts';

export type RetryFailedDeps = StartRunDeps & AuditDeps & { batches: Pick<BatchLedger, 'failedEmails'> };

const count = (n: number): string => n.toLocaleString('en-US');

/**
 * `POST /runs/{id}/retry-failed`: a run of the same export that sends again exactly the contacts that
 * failed in an ended run, as its batches recorded them (docs/architecture.md#re-send-and-retry).
 */
export const retryFailed = async (
  deps: RetryFailedDeps,
  runId: string,
  caller: Caller,
): Promise<StartRunResult> => {
  const run = await getRunOrThrow(deps, runId);
  authorize(caller, 'run:start', await runGoverningConnections(deps, run));
  const exp = await getExportOrThrow(deps.exports, run.exportId);
  if (!isTerminal(run.status)) {
    throw new ConflictError(
      `Run ${runId} has not ended (${run.status.replaceAll('_', ' ')}); retry its failed contacts once it has.`,
      { code: 'run_not_ended' },
    );
  }
  const emails = await deps.batches.failedEmails(runId, MAX_NAMED_CONTACTS + 1);
  if (emails.length === 0) {
    throw new ConflictError(`No contact failed in run ${runId}: there is nothing to retry.`, {
      code: 'nothing_failed',
    });
  }
  if (emails.length > MAX_NAMED_CONTACTS) {
    throw new ConflictError(
      `More than ${count(MAX_NAMED_CONTACTS)} contacts failed in run ${runId}; a retry sends at most ` +
        `${count(MAX_NAMED_CONTACTS)}. Run the export instead: every run sends contacts that failed before again.`,
      { code: 'too_many_failed' },
    );
  }
  return startNamedRun(deps, caller, {
    exportId: exp.id,
    contacts: { kind: 'retry', emails },
    retryOf: runId,
  });
};
