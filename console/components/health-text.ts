import { whenText } from './export-labels.ts';
import type { ExportView } from './export-model.ts';

export type Health = NonNullable<ExportView['health']>;

/** The API cuts a reason at 500 characters; a list row needs less to say what went wrong. */
const MAX_REASON = 160;

const reasonText = (reason: string | undefined): string => {
  const r = reason?.trim() ?? '';
  if (r === '') return '';
  return `, ${r.length > MAX_REASON ? `${r.slice(0, MAX_REASON)}…` : r}`;
};

/**
 * An export's health in words, so the badge never relies on colour: how its runs have been ending,
 * and for a failing streak how long, since when and why.
 */
export const healthText = (health: Health | null): string => {
  if (health === null) return 'No finished run yet';
  switch (health.state) {
    case 'healthy':
      return 'Healthy';
    case 'failing': {
      const runs = `${health.failingRuns.toLocaleString('en-US')} run${health.failingRuns === 1 ? '' : 's'}`;
      return `Failing (${runs}, since ${whenText(health.since)}${reasonText(health.reason)})`;
    }
    case 'key_rejected':
      return `Key rejected (since ${whenText(health.since)})`;
    case 'held':
      return 'Held for approval';
  }
};
