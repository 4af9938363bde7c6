import { count, isActive, type Run } from './run-format.ts';

/**
 * Whether to offer "Retry failed contacts": the run has ended, something failed in it, and the
 * caller may run its export (the run view carries no run permission of its own). The API answers
 * 409 otherwise; the console does not offer what would be refused.
 */
export const canRetryFailed = (run: Run, canRun: boolean): boolean =>
  canRun &&
  run.trigger !== 'dry-run' &&
  !isActive(run.status) &&
  run.status !== 'skipped' &&
  run.progress.failed > 0;

const contacts = (n: number): string => `${count(n)} ${n === 1 ? 'contact' : 'contacts'}`;

/** What a named-contacts run sends, by how many and never which: the API never names them either. */
export const namedContactsText = (run: Run): string | undefined => {
  const named = run.namedContacts;
  if (named === undefined) return undefined;
  if (named.kind === 'resend') return `Re-send of ${contacts(named.count)}`;
  return named.retryOf === undefined
    ? `Retry of ${contacts(named.count)}`
    : `Retry of ${contacts(named.count)} from run ${named.retryOf}`;
};
