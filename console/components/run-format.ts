import type { Schemas } from '../api/client.ts';

export type Run = Schemas['Run'];
export type RunStatus = Run['status'];
export type ExportView = Schemas['Export'];

export const RUN_STATUS_TEXT: Record<RunStatus, string> = {
  planning: 'Planning',
  awaiting_approval: 'Awaiting approval',
  sending: 'Sending',
  succeeded: 'Succeeded',
  completed_with_errors: 'Completed with errors',
  failed: 'Failed',
  cancelled: 'Cancelled',
  skipped: 'Skipped',
};

export const TRIGGER_TEXT: Record<Run['trigger'], string> = {
  schedule: 'Schedule',
  'on-demand': 'On demand',
  'dry-run': 'Dry run',
};

/** A run still moving (or waiting for an admin's approval): the page polls it and may offer Cancel. */
export const isActive = (status: RunStatus): boolean =>
  status === 'planning' || status === 'awaiting_approval' || status === 'sending';

const REQUEST_KIND_TEXT: Record<string, string> = {
  bulkUpsert: 'Bulk contact updates (up to 100 each)',
  bulkUpsertWithList: 'Bulk contact updates with list membership',
  upsertWithList: 'Single contact joins a list',
  listRemove: 'Removals from a list',
  listAdd: 'Additions to a list',
  listLists: 'List look-ups by title',
  createList: 'Lists created',
  membershipCheck: 'Membership checks (bulk-membership probe)',
};

/** Request kinds as the API names them, in words; an unknown kind keeps its name rather than vanish. */
export const requestKindText = (kind: string): string => REQUEST_KIND_TEXT[kind] ?? kind;

const REASON_TEXT: Record<string, string> = {
  missing: 'no email',
  not_a_string: 'email is not text',
  too_long: 'email too long',
  control_character: 'email has a control character',
  invalid_unicode: 'email has broken characters',
  contains_whitespace: 'email contains a space',
  missing_at: 'email has no @',
  multiple_at: 'email has more than one @',
  empty_local_part: 'nothing before the @',
  local_part_too_long: 'part before the @ too long',
  invalid_domain: 'invalid email domain',
  too_large: 'contact too large to send',
};

/** A reason key (`missing_at`) in words; reasons the console does not know read with spaces for underscores. */
/** Planning names an email rejection `email_<reason>` (lib/domain/mapping.ts); other reasons stand alone. */
export const reasonText = (reason: string): string =>
  REASON_TEXT[reason] ??
  REASON_TEXT[reason.replace(/^email_/, '')] ??
  reason.slice(0, 200).replaceAll('_', ' ');

export const count = (n: number): string => n.toLocaleString('en-US');

export const sumOf = (counts: Record<string, number>): number =>
  Object.values(counts).reduce((a, b) => a + b, 0);

/** Requests a run sent, all kinds together. */
export const requestsSent = (run: Run): number => sumOf(run.progress.requests);

/** Profiles planning left out (invalid emails by reason, over the cap); null before planning has read them. */
export const skipped = (run: Run): number | null =>
  run.planning === null ? null : sumOf(run.planning.invalid) + run.planning.overCapProfiles;

/** A duration in words a marketer reads at a glance: "0.4 s", "12 s", "3 min 5 s", "2 h 5 min". */
export const durationText = (ms: number): string => {
  if (!Number.isFinite(ms) || ms < 0) return 'unknown';
  if (ms < 10_000) return `${(Math.round(ms / 100) / 10).toLocaleString('en-US')} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return seconds % 60 === 0 ? `${minutes} min` : `${minutes} min ${seconds % 60} s`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 === 0 ? `${count(hours)} h` : `${count(hours)} h ${minutes % 60} min`;
};

/**
 * How long until the API's ETA, from `now`: rounded up so "about 1 minute left" never undersells,
 * and "finishing now" once it is due (the API never sends one in the past, but clocks differ).
 */
export const etaText = (eta: string | null, now: number): string | undefined => {
  if (eta === null) return undefined;
  const at = Date.parse(eta);
  if (Number.isNaN(at)) return undefined;
  const seconds = Math.ceil((at - now) / 1000);
  if (seconds <= 0) return 'finishing now';
  if (seconds < 60) return `about ${seconds} ${seconds === 1 ? 'second' : 'seconds'} left`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `about ${minutes} ${minutes === 1 ? 'minute' : 'minutes'} left`;
  return `about ${durationText(minutes * 60_000)} left`;
};

/** The progress bar's value (0–100) and its text equivalent; no value while planning decides the batches. */
export const progressOf = (run: Run): { value: number | undefined; text: string } => {
  const { percent, batchesDone, batchesTotal } = run.progress;
  if (percent === null || batchesTotal === null) {
    return {
      value: undefined,
      text: isActive(run.status)
        ? 'Planning: reading the segments and working out what to send'
        : 'Nothing was planned',
    };
  }
  const value = Math.min(100, Math.max(0, percent));
  return { value, text: `${value}% (${count(batchesDone)} of ${count(batchesTotal)} batches)` };
};

/** Whether to offer Cancel: the run is still moving and the API says this caller may cancel it. */
export const canCancel = (run: Run): boolean => isActive(run.status) && run.permissions.canCancel;

type LastRunCounts = NonNullable<ExportView['lastRun']>['counts'];

/** A last run's outcome for a list, in the unit the run counted; nothing for a run ended before counts were kept. */
export const lastRunCountsText = (counts: LastRunCounts): string => {
  if (counts === null) return '';
  const unit = counts.unit === 'memberships' ? 'list memberships' : 'contacts';
  return `${count(counts.accepted)} ${unit} delivered, ${count(counts.failed)} failed, ${count(counts.dropped)} not sent`;
};

type DataMatching = NonNullable<Run['config']>['dataMatching'];

const FIELD_TEXT: Record<string, string> = { FirstName: 'First name', LastName: 'Last name' };

/** A run's data matching, one Autopilot field per line with the profile field it is read from. */
export const matchingLines = (m: DataMatching): string[] => [
  `Email from ${m.email}`,
  ...Object.entries(m.fields ?? {}).flatMap(([field, source]) =>
    source ? [`${FIELD_TEXT[field] ?? field} from ${source}`] : [],
  ),
  ...(m.custom ?? []).map((c) => `${c.name} (custom, ${c.type}) from ${c.source}`),
  ...(m.updatedAt === undefined ? [] : [`Last update read from ${m.updatedAt}`]),
];

export const whenText = (iso: string): string => {
  const at = new Date(iso);
  return Number.isNaN(at.getTime())
    ? iso.slice(0, 40)
    : at.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
};
