import { type ChartPoint, chartModel, chartSummary } from './run-chart-model.ts';
import { count, durationText } from './run-format.ts';

const FRAME = { width: 600, panelHeight: 70, durationTop: 100, gap: 4 } as const;
const HEIGHT = FRAME.durationTop + FRAME.panelHeight + 4;

/**
 * Two bar panels over the same runs: contacts sent above, duration below. Hand-written SVG with
 * classes only (no style attributes), so the page's CSP holds.
 */
export const RunChart = ({ points }: { points: readonly ChartPoint[] }) => {
  if (points.length === 0) return null;
  const model = chartModel(points, FRAME);
  return (
    <figure class="run-chart">
      <svg
        role="img"
        aria-label={chartSummary(points)}
        viewBox={`0 0 ${FRAME.width} ${HEIGHT}`}
        preserveAspectRatio="none"
        class="run-chart-svg"
      >
        <line class="axis" x1={0} x2={FRAME.width} y1={FRAME.panelHeight} y2={FRAME.panelHeight} />
        {model.sentBars.map((b, i) => (
          <rect key={`s${i}`} class="bar-sent" x={b.x} y={b.y} width={b.width} height={b.height} />
        ))}
        <line
          class="axis"
          x1={0}
          x2={FRAME.width}
          y1={FRAME.durationTop + FRAME.panelHeight}
          y2={FRAME.durationTop + FRAME.panelHeight}
        />
        {model.durationBars.map((b, i) =>
          b === null ? null : (
            <rect key={`d${i}`} class="bar-duration" x={b.x} y={b.y} width={b.width} height={b.height} />
          ),
        )}
      </svg>
      <figcaption aria-hidden="true">
        <span class="key key-sent" /> Contacts sent (most {count(model.maxSent)}){' '}
        <span class="key key-duration" /> Duration (longest {durationText(model.maxDurationMs)})
      </figcaption>
    </figure>
  );
};
