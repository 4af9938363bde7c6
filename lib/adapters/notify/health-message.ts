import { maskEmail } from '#lib/domain/email.ts';
import type { HealthChange } from '#lib/ports/notifier.ts';

/** A reason is a sentence; anything longer is cut before a pattern looks at it. */
const MAX_REASON = 500;
/** Something shaped like an address; masked whatever it is, a reason is free text. */
const EMAIL_LIKE = /[^\s@<>()"',;:]+@[^\s@<>()"',;:]+/g;

/** `ann@example.com` anywhere in free text becomes `a***@example.com`. */
export const maskEmailsIn = (text: string): string =>
  (text.length > MAX_REASON ? `${text.slice(0, MAX_REASON)}…` : text).replace(EMAIL_LIKE, (m) =>
    maskEmail(m),
  );

/** Where a person opens the run: the console's run page, or the API's run path without a console. */
export const runLink = (runId: string, consoleUrl: string | undefined): string =>
  consoleUrl === undefined
    ? `/runs/${encodeURIComponent(runId)}`
    : `${consoleUrl.replace(/\/+$/, '')}/#/runs/${encodeURIComponent(runId)}`;

const STATE_WORDS = {
  healthy: 'healthy',
  failing: 'failing',
  key_rejected: 'key rejected',
  held: 'held for approval',
} as const;

/** One email-free headline and the lines under it, for every channel. */
export const describeHealthChange = (
  change: HealthChange,
  consoleUrl?: string,
): { headline: string; lines: string[]; link: string } => {
  const name = `export "${change.exportName}"`;
  const runs = change.failingRuns === 1 ? '1 failing run' : `${change.failingRuns} failing runs`;
  const headline =
    change.to === 'healthy'
      ? change.from === 'held'
        ? `${name} is running again`
        : `${name} recovered after ${runs}`
      : change.to === 'key_rejected'
        ? `${name}: Autopilot rejected the connection's API key`
        : change.to === 'held'
          ? `${name}: a run is held for approval`
          : `${name} started failing`;
  const link = runLink(change.run.id, consoleUrl);
  const p = change.run.progress;
  const lines = [
    `State: ${STATE_WORDS[change.to]}${change.from === undefined ? '' : ` (was ${STATE_WORDS[change.from]})`}.`,
    change.reason === undefined ? undefined : `Reason: ${maskEmailsIn(change.reason)}`,
    `Run ${change.run.id} ${change.run.status.replaceAll('_', ' ')}: delivered ${p.accepted}, failed ${p.failed}, not sent ${p.dropped}.`,
    `Run: ${link}`,
  ].filter((l) => l !== undefined);
  return { headline, lines, link };
};
