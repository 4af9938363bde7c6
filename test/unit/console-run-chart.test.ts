import { describe, expect, it } from 'vitest';
import { chartModel, chartSummary, scaleBars } from '../../console/components/run-chart-model.ts';

const FRAME = { width: 300, panelHeight: 50, durationTop: 60, gap: 4 };

describe('console run chart: scaling', () => {
  it('scales linearly from zero so the largest value fills the panel', () => {
    expect(scaleBars([10, 5, 0], 50)).toEqual([50, 25, 0]);
  });

  it('keeps a tiny non-zero value visible and draws nothing at all when every value is zero', () => {
    expect(scaleBars([10_000, 1], 50)).toEqual([50, 1]);
    expect(scaleBars([0, 0], 50)).toEqual([0, 0]);
    expect(scaleBars([], 50)).toEqual([]);
  });

  it('draws the oldest run on the left (the API lists newest first), bars standing on each panel’s base', () => {
    const model = chartModel(
      [
        { label: 'newest', sent: 40, durationMs: 2_000 },
        { label: 'oldest', sent: 20, durationMs: 4_000 },
      ],
      FRAME,
    );
    expect(model.points.map((p) => p.label)).toEqual(['oldest', 'newest']);
    const [oldest, newest] = model.sentBars;
    expect(oldest).toEqual({ x: 2, y: 25, width: 146, height: 25 });
    expect(newest).toEqual({ x: 152, y: 0, width: 146, height: 50 });
    expect(model.durationBars[0]).toEqual({ x: 2, y: 60, width: 146, height: 50 });
    expect(model.durationBars[1]).toEqual({ x: 152, y: 85, width: 146, height: 25 });
  });

  it('leaves out the duration bar of a run still going, instead of drawing it as zero', () => {
    const model = chartModel([{ label: 'active', sent: 3, durationMs: null }], FRAME);
    expect(model.durationBars).toEqual([null]);
    expect(model.maxDurationMs).toBe(0);
  });

  it('summarises the chart in words: ranges and the latest run', () => {
    expect(
      chartSummary([
        { label: 'b', sent: 40, durationMs: 2_000 },
        { label: 'a', sent: 1_200, durationMs: 65_000 },
      ]),
    ).toBe(
      'Contacts sent and duration of the last 2 runs, oldest to newest; contacts sent from 40 to 1,200, latest 40; duration from 2 s to 1 min 5 s. The table below lists each run.',
    );
    expect(chartSummary([])).toBe('No runs yet.');
  });
});
