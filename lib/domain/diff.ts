/** What the snapshot remembers per contact: the hash last sent and the segments it was in (bit mask). */
export interface SnapshotEntry {
  /** Empty when only memberships are known (e.g. a half-finished earlier removal). */
  hash: string;
  /** Segments the contact is certainly a member of (its join was accepted). */
  segments: number;
  /**
   * Segments whose membership is uncertain: a join or leave was attempted and its outcome never
   * confirmed (the answer was lost, the run ended first). Whatever the segment says now is asserted
   * again: joined if the contact is in it, removed if not.
   */
  maybe?: number;
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
  const certain = previous?.segments ?? 0;
  // An uncertain membership may be either: it is joined again when wanted and removed when not.
  const possible = certain | (previous?.maybe ?? 0);
  if (current === undefined) {
    return { change: 'left', current: 0, joins: 0, leaves: possible };
  }
  const memberships = {
    current: current.segments,
    joins: current.segments & ~certain,
    leaves: possible & ~current.segments,
  };
  if (previous === undefined || previous.hash === '') {
    // Nothing confirmed about the contact (at most uncertain memberships): it is new to Autopilot's eyes.
    const added = previous === undefined || previous.segments === 0;
    return { change: added ? 'added' : 'changed', ...memberships };
  }
  return { change: current.hash === previous.hash ? 'unchanged' : 'changed', ...memberships };
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
