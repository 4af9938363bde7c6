/** One selected segment as GET /segments reports it. */
export interface SizedSegment {
  id: string;
  name: string;
  profiles: number;
}

export interface CapMeter {
  /** Profiles in all selected segments together (shared profiles counted once per segment). */
  total: number;
  cap: number;
  /** How full the cap is, in whole percent; over 100 when the selection is over the cap. */
  percent: number;
  /** Profiles over the cap (0 when within it). */
  overBy: number;
  /** Segments that alone hold more than the cap, with how many over. */
  alone: { segment: SizedSegment; overBy: number }[];
}

export const capMeter = (selected: readonly SizedSegment[], cap: number): CapMeter => {
  const total = selected.reduce((sum, s) => sum + s.profiles, 0);
  return {
    total,
    cap,
    percent: cap > 0 ? Math.ceil((total / cap) * 100) : total > 0 ? Number.POSITIVE_INFINITY : 0,
    overBy: Math.max(0, total - cap),
    alone: selected
      .filter((s) => s.profiles > cap)
      .map((segment) => ({ segment, overBy: segment.profiles - cap })),
  };
};

const n = (value: number): string => value.toLocaleString('en-US');
const named = (s: SizedSegment): string => `"${s.name}" (${n(s.profiles)} profiles)`;

/**
 * Why a save is refused over the cap: which segments, and by how much. Undefined when the
 * selection fits, or when the export sends up to the cap instead of failing (policy truncate).
 */
export const overCapReason = (
  selected: readonly SizedSegment[],
  meter: CapMeter,
  capPolicy: 'fail' | 'truncate',
): string | undefined => {
  if (meter.overBy === 0 || capPolicy === 'truncate') return undefined;
  if (meter.alone.length > 0) {
    const each = meter.alone.map((a) => `${named(a.segment)} is ${n(a.overBy)} over`).join('; ');
    return `Over the cap of ${n(meter.cap)} contacts: ${each}. A run would fail. Choose smaller segments, or send up to the cap.`;
  }
  return (
    `Over the cap of ${n(meter.cap)} contacts: ${selected.map(named).join(' and ')} hold ${n(meter.total)} ` +
    `together, ${n(meter.overBy)} over. Unless that many are shared or invalid, a run would fail. Choose ` +
    'fewer segments, or send up to the cap.'
  );
};
