/** What the merge rule looks at when several profiles share one email. */
export interface MergeCandidate {
  profileId: string;
  updatedAt: number | undefined;
}

const DECIMAL = /^\d+$/;

/** Profile ids compare numerically when both are decimal integers ("9" < "10"), otherwise by code unit. */
export const compareProfileIds = (a: string, b: string): number => {
  if (DECIMAL.test(a) && DECIMAL.test(b) && a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
};

/**
 * The documented merge rule: the most recently updated profile wins; a profile with an update
 * time beats one without; otherwise (or on a tie) the lowest profile id wins.
 * Returns true when `challenger` should replace `incumbent`.
 */
export const challengerWins = (incumbent: MergeCandidate, challenger: MergeCandidate): boolean => {
  const a = incumbent.updatedAt;
  const b = challenger.updatedAt;
  if (a !== b) {
    if (a === undefined) return true;
    if (b === undefined) return false;
    return b > a;
  }
  return compareProfileIds(challenger.profileId, incumbent.profileId) < 0;
};
