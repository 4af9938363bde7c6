/** What the snapshot remembers per contact: the hash last sent and the segments it was in (bit mask). */
export interface SnapshotEntry {
  /** Empty when only memberships are known (e.g. a half-finished earlier removal). */
  hash: string;
  segments: number;
  /** The address as last sent, when its case differs from the lower-cased key. */
  email?: string;
}

export type ContactChange = 'added' | 'changed' | 'unchanged' | 'left';

export interface ContactDecision {
  change: ContactChange;
  /** Segments the contact is in now. */
  current: number;
  /** Segments joined since the snapshot. */
  joins: number;
  /** Segments left since the snapshot. */
  leaves: number;
}

/**
 * Compares one contact's current state with its snapshot entry. A contact in neither is not asked
 * about; a contact only in the snapshot has `left` every segment it was in.
 */
export const decide = (
  current: { hash: string; segments: number } | undefined,
  previous: SnapshotEntry | undefined,
): ContactDecision => {
  if (current === undefined) {
    const was = previous?.segments ?? 0;
    return { change: 'left', current: 0, joins: 0, leaves: was };
  }
  if (previous === undefined || previous.hash === '') {
    const was = previous?.segments ?? 0;
    return {
      change: previous === undefined ? 'added' : 'changed',
      current: current.segments,
      joins: current.segments & ~was,
      leaves: was & ~current.segments,
    };
  }
  return {
    change: current.hash === previous.hash ? 'unchanged' : 'changed',
    current: current.segments,
    joins: current.segments & ~previous.segments,
    leaves: previous.segments & ~current.segments,
  };
};

export interface DiffTotals {
  added: number;
  changed: number;
  unchanged: number;
  left: number;
  /** Per segment index: contacts joining / leaving it. */
  joins: number[];
  leaves: number[];
}

export const emptyDiffTotals = (segmentCount: number): DiffTotals => ({
  added: 0,
  changed: 0,
  unchanged: 0,
  left: 0,
  joins: Array.from({ length: segmentCount }, () => 0),
  leaves: Array.from({ length: segmentCount }, () => 0),
});

export const tally = (totals: DiffTotals, d: ContactDecision): void => {
  totals[d.change]++;
  for (let i = 0; i < totals.joins.length; i++) {
    const bit = 1 << i;
    if (d.joins & bit) totals.joins[i] = (totals.joins[i] ?? 0) + 1;
    if (d.leaves & bit) totals.leaves[i] = (totals.leaves[i] ?? 0) + 1;
  }
};

export const bitsOf = (mask: number, count: number): number[] => {
  const out: number[] = [];
  for (let i = 0; i < count; i++) if (mask & (1 << i)) out.push(i);
  return out;
};

export const popcount = (mask: number): number => {
  let m = mask >>> 0;
  let n = 0;
  while (m) {
    m &= m - 1;
    n++;
  }
  return n;
};
