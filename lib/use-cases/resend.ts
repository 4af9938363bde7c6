import type { Caller } from '#lib/domain/access.ts';
import { checkEmail, maskEmail } from '#lib/domain/email.ts';
import { ConflictError, ValidationError } from '#lib/domain/errors.ts';
import type { ContactFilter } from '#lib/domain/run.ts';
import { type AuditDeps, recordAudit } from './audit.ts';
import { authorizeOnExport, getExportOrThrow } from './export-access.ts';
import { RunRefusedError, type StartRunDeps, type StartRunResult, startRun } from './start-run.ts';

/** Longest email a path may carry: RFC 5321's 254, checked before any pattern runs on it. */
const MAX_EMAIL_CHARS = 254;

/** The contact a caller names, normalised as the planner keys contacts; a clear 400 otherwise. */
export const namedEmail = (raw: string): string => {
  if (raw.length > MAX_EMAIL_CHARS)
    throw new ValidationError([
      { path: 'path.email', reason: `is longer than ${MAX_EMAIL_CHARS} characters` },
    ]);
  const checked = checkEmail(raw);
  if (!checked.ok)
    throw new ValidationError([
      { path: 'path.email', reason: `is not an email address (${checked.reason})` },
    ]);
  return checked.key;
};

/**
 * Starts a run limited to the named contacts (docs/architecture.md#re-send-and-retry) and audits the
 * request. Like `POST /exports/{id}/runs`, a run still active leaves a `skipped` run, audited too.
 */
export const startNamedRun = async (
  deps: StartRunDeps & AuditDeps,
  caller: Caller,
  request: { exportId: string; contacts: ContactFilter; retryOf?: string },
): Promise<StartRunResult> => {
  let result: StartRunResult;
  try {
    result = await startRun(deps, { ...request, trigger: 'on-demand', requestedBy: caller.id });
  } catch (error) {
    if (error instanceof RunRefusedError) throw new ConflictError(error.message, { code: error.code });
    throw error;
  }
  const { kind, emails } = request.contacts;
  await recordAudit(deps, caller, {
    action: 'run.requested',
    resource: { type: 'export', id: request.exportId },
    runId: result.run.id,
    detail: {
      trigger: 'on-demand',
      status: result.run.status,
      contacts: emails.length,
      // Audit entries are read back through the API: the contact only masked.
      ...(kind === 'resend' && emails[0] !== undefined ? { resendOf: maskEmail(emails[0]) } : {}),
      ...(request.retryOf === undefined ? {} : { retryOf: request.retryOf }),
    },
  });
  return result;
};

/**
 * `POST /exports/{id}/contacts/{email}/resend`: sends one contact's current state and memberships
 * now, as a small run of the export, whatever the snapshot says about it.
 */
export const resendContact = async (
  deps: StartRunDeps & AuditDeps,
  exportId: string,
  rawEmail: string,
  caller: Caller,
): Promise<StartRunResult> => {
  const email = namedEmail(rawEmail);
  const exp = await getExportOrThrow(deps.exports, exportId);
  await authorizeOnExport(deps.connections, caller, 'run:start', exp);
  return startNamedRun(deps, caller, { exportId: exp.id, contacts: { kind: 'resend', emails: [email] } });
};
