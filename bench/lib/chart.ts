/** One series of a rate chart: requests per second in 1-second bins, and 429s per bin. */
export interface RateSeries {
  title: string;
  /** Requests answered (any status) per second, from the run's first request. */
  perSecond: number[];
  throttledPerSecond: number[];
  budget: number;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/**
 * A dependency-free SVG: achieved requests/s over time against the budget (dashed), with 429s
 * marked in red. One panel per series, stacked.
 */
export const rateChartSvg = (series: readonly RateSeries[], heading: string): string => {
  const width = 900;
  const panel = 220;
  const margin = { left: 56, right: 16, top: 28, bottom: 34 };
  const height = 40 + series.length * (panel + margin.top + margin.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${margin.left}" y="22" font-size="15" font-weight="600">${esc(heading)}</text>`,
  ];
  series.forEach((s, i) => {
    const top = 40 + i * (panel + margin.top + margin.bottom) + margin.top;
    const seconds = Math.max(1, s.perSecond.length);
    const yMax = Math.max(s.budget * 1.25, ...s.perSecond, 1);
    const plotW = width - margin.left - margin.right;
    const x = (t: number) => margin.left + (t / seconds) * plotW;
    const y = (v: number) => top + panel - (v / yMax) * panel;
    parts.push(`<text x="${margin.left}" y="${top - 8}" font-weight="600">${esc(s.title)}</text>`);
    parts.push(
      `<rect x="${margin.left}" y="${top}" width="${plotW}" height="${panel}" fill="none" stroke="#ccc"/>`,
    );
    for (const frac of [0, 0.25, 0.5, 0.75, 1]) {
      const v = yMax * frac;
      parts.push(
        `<text x="${margin.left - 6}" y="${y(v) + 4}" text-anchor="end" fill="#555">${v.toFixed(v < 10 ? 1 : 0)}</text>`,
      );
    }
    const step = Math.max(1, Math.ceil(seconds / 10));
    for (let t = 0; t <= seconds; t += step) {
      parts.push(`<text x="${x(t)}" y="${top + panel + 16}" text-anchor="middle" fill="#555">${t}s</text>`);
    }
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y(s.budget)}" y2="${y(s.budget)}" stroke="#2a7" stroke-dasharray="6 4"/>`,
      `<text x="${margin.left + plotW - 4}" y="${y(s.budget) - 5}" text-anchor="end" fill="#2a7">budget ${s.budget}/s</text>`,
    );
    const points = s.perSecond.map((v, t) => `${x(t + 0.5).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${points}" fill="none" stroke="#2563eb" stroke-width="1.6"/>`);
    s.throttledPerSecond.forEach((n, t) => {
      if (n > 0)
        parts.push(
          `<circle cx="${x(t + 0.5)}" cy="${y(0) - 4}" r="${Math.min(6, 2 + n)}" fill="#dc2626"><title>${n} × 429</title></circle>`,
        );
    });
    parts.push(
      `<text x="${margin.left + plotW}" y="${top + panel + 30}" text-anchor="end" fill="#555">requests/s (blue) · 429 answers (red dots)</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
};
