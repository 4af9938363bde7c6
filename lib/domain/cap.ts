import { CapExceededError } from './errors.ts';

export interface SegmentSize {
  id: string;
  name: string;
  /** Profiles in the segment as the source reports them. */
  profiles: number;
}

export type CapPolicy = 'fail' | 'truncate';

const n = (v: number): string => v.toLocaleString('en-US');

/** The error a run fails with when its distinct contacts exceed the cap (policy `fail`). */
export const capExceeded = (
  distinctAtLeast: number,
  cap: number,
  segments: readonly SegmentSize[],
): CapExceededError => {
  const sizes = segments.map((s) => `"${s.name}" (${s.id}): ${n(s.profiles)} profiles`).join('; ');
  return new CapExceededError(
    `This export selects more than ${n(cap)} distinct contacts (the cap); at least ${n(distinctAtLeast)} were found ` +
      `before planning stopped, and nothing was sent. Segment sizes: ${sizes}. Narrow the segments, raise the ` +
      `connection's cap, or choose the "truncate" cap policy.`,
    distinctAtLeast,
    cap,
  );
};

/** The cap that applies to one export: the lower of the export's own and its connection's contract cap. */
export const effectiveCap = (exportCap: number, connectionCap: number): number =>
  Math.min(exportCap, connectionCap);
