import { href } from '../router.ts';
import type { ExportView } from './export-model.ts';

export const EXPORT_STATUS_TEXT: Record<ExportView['status'], string> = {
  ready: 'Ready',
  running: 'Running',
  no_connection: 'No connection',
  connection_needs_attention: 'Connection needs attention',
};

/** One wording of a run's status for every page (the run pages use it too). */
export { RUN_STATUS_TEXT } from './run-format.ts';

export const MEMBERSHIP_TEXT: Record<ExportView['membership'], string> = {
  list: 'A list per segment',
  field: 'A field per segment',
  tag: 'A tag per segment',
};

export const ON_LEAVE_TEXT: Record<ExportView['onLeave'], string> = {
  remove: 'Taken off the list (or field set to false)',
  keep: 'Left as they are',
};

export const CAP_POLICY_TEXT: Record<ExportView['capPolicy'], string> = {
  fail: 'The run fails; nothing is sent',
  truncate: 'Send up to the cap',
};

/** A stored instant as people read it, in UTC so every reader and test sees the same text. */
export const whenText = (iso: string | undefined | null): string => {
  if (iso === undefined || iso === null) return '';
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
};

export const runHref = (runId: string): string => href({ page: 'run', id: runId });
export const runsHref = (exportId: string): string => href({ page: 'export-runs', id: exportId });

/** What the caller may do with an export, in words. */
export const mayText = (p: ExportView['permissions']): string =>
  p.canEdit && p.canRun ? 'Edit and run' : p.canEdit ? 'Edit' : p.canRun ? 'Run' : 'View only';

/** A duration estimate as people read it: seconds under a minute, then minutes, then hours. */
export const durationText = (seconds: number): string => {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.ceil(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
};

/** One membership mode's upper-bound price, in words. */
export const estimateText = (e: { requests: number; seconds: number }): string =>
  `at most ${e.requests.toLocaleString('en-US')} request(s), about ${durationText(e.seconds)} on a first run`;
