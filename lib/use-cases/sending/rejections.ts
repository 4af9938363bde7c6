import type { PermanentError } from '#lib/domain/errors.ts';
import type { ContactResult } from '#lib/ports/destination.ts';

/**
 * Why the destination refused a whole request, as a per-contact reason: its own reason when it gave
 * one, else the status (`rejected_400`; `unreadable_response` for a 2xx whose body did not parse).
 */
export const rejectionReason = (error: PermanentError): string =>
  error.details.reason ??
  (error.details.status === undefined
    ? 'rejected'
    : error.details.status >= 200 && error.details.status < 300
      ? 'unreadable_response'
      : `rejected_${error.details.status}`);

/** Every contact of a request the destination refused as a whole: failed, with its reason, never retried in a loop. */
export const rejectedAll = (emails: readonly string[], error: PermanentError): ContactResult[] => {
  const reason = rejectionReason(error);
  return emails.map((email) => ({ email, ok: false, reason }));
};
