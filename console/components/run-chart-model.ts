import { count, durationText } from './run-format.ts';

/** One run as the history chart draws it. */
export interface ChartPoint {
  label: string;
  sent: number;
  /** Null while the run has not ended: no bar, rather than a misleading zero. */
  durationMs: number | null;
}

export interface Bar {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ChartModel {
  /** Oldest run first, so time reads left to right (the API lists newest first). */
  points: ChartPoint[];
  sentBars: Bar[];
  durationBars: (Bar | null)[];
  maxSent: number;
  maxDurationMs: number;
}

export interface ChartFrame {
  width: number;
  /** Height of each of the two panels (contacts sent, duration). */
  panelHeight: number;
  /** Top of the duration panel. */
  durationTop: number;
  gap: number;
}

/**
 * Bar heights on one panel: linear from 0, the largest value fills it; a value above zero is at least
 * one unit tall so it never reads as nothing; zero (or a negative count that cannot happen) is flat.
 */
export const scaleBars = (values: readonly number[], height: number): number[] => {
  const max = Math.max(0, ...values);
  if (max === 0) return values.map(() => 0);
  return values.map((v) => (v > 0 ? Math.max(1, (v / max) * height) : 0));
};

export const chartModel = (newestFirst: readonly ChartPoint[], frame: ChartFrame): ChartModel => {
  const points = [...newestFirst].reverse();
  const n = Math.max(1, points.length);
  const slot = frame.width / n;
  const width = Math.max(1, slot - frame.gap);
  const sentHeights = scaleBars(
    points.map((p) => p.sent),
    frame.panelHeight,
  );
  const durations = points.map((p) => p.durationMs ?? 0);
  const durationHeights = scaleBars(durations, frame.panelHeight);
  const x = (i: number) => i * slot + (slot - width) / 2;
  return {
    points,
    sentBars: sentHeights.map((h, i) => ({ x: x(i), y: frame.panelHeight - h, width, height: h })),
    durationBars: durationHeights.map((h, i) =>
      points[i]?.durationMs === null
        ? null
        : { x: x(i), y: frame.durationTop + frame.panelHeight - h, width, height: h },
    ),
    maxSent: Math.max(0, ...points.map((p) => p.sent)),
    maxDurationMs: Math.max(0, ...durations),
  };
};

/** What the chart shows, in one sentence, for those who cannot see it (the table holds every value). */
export const chartSummary = (newestFirst: readonly ChartPoint[]): string => {
  const n = newestFirst.length;
  if (n === 0) return 'No runs yet.';
  const sent = newestFirst.map((p) => p.sent);
  const durations = newestFirst.flatMap((p) => (p.durationMs === null ? [] : [p.durationMs]));
  const latest = newestFirst[0];
  const parts = [
    `Contacts sent and duration of the last ${n} ${n === 1 ? 'run' : 'runs'}, oldest to newest`,
    `contacts sent from ${count(Math.min(...sent))} to ${count(Math.max(...sent))}` +
      (latest === undefined ? '' : `, latest ${count(latest.sent)}`),
  ];
  if (durations.length > 0)
    parts.push(
      `duration from ${durationText(Math.min(...durations))} to ${durationText(Math.max(...durations))}`,
    );
  return `${parts.join('; ')}. The table below lists each run.`;
};
