import type { Schemas } from '../api/client.ts';

export type AuditEntry = Schemas['AuditPage']['entries'][number];
type Change = NonNullable<AuditEntry['changes']>[number];

export const ACTION_TEXT: Record<AuditEntry['action'], string> = {
  'connection.created': 'Created the connection',
  'connection.updated': 'Changed the connection',
  'connection.key_rotated': 'Replaced the API key',
  'connection.removed': 'Removed the connection',
  'export.created': 'Created the export',
  'export.updated': 'Changed the export',
  'export.deleted': 'Deleted the export',
  'export.duplicated': 'Created the export as a copy',
  'run.requested': 'Requested a run',
  'run.cancelled': 'Cancelled a run',
  'run.approved': 'Approved a run’s removals',
  'run.rejected': 'Rejected a run’s removals',
};

/** The API cuts values at 500 characters; the console shows less, so one entry never floods the page. */
const MAX_VALUE = 120;

/** A recorded value as text: strings as they are, anything else as JSON, cut with an ellipsis. */
export const valueText = (value: unknown): string => {
  const text = typeof value === 'string' ? `"${value}"` : (JSON.stringify(value) ?? String(value));
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE)}…` : text;
};

/**
 * One field's change in words: old → new; only the new value on a creation, only the old on a
 * removal; a secret (the API key) only as "changed", since the trail never holds it.
 */
export const changeText = (c: Change): string => {
  const cut = c.truncated === true ? ' (cut short)' : '';
  if (c.changed === true && !('from' in c) && !('to' in c)) return `${c.field}: changed`;
  if (!('from' in c)) return `${c.field}: set to ${valueText(c.to)}${cut}`;
  if (!('to' in c)) return `${c.field}: was ${valueText(c.from)}${cut}`;
  return `${c.field}: ${valueText(c.from)} → ${valueText(c.to)}${cut}`;
};

/** Context the change list cannot carry (a run's trigger, what a removal detached), one line each. */
export const detailLines = (detail: AuditEntry['detail']): string[] =>
  Object.entries(detail ?? {}).map(([key, value]) =>
    `${key}: ${Array.isArray(value) ? value.join(', ') : String(value)}`.slice(0, 300),
  );
