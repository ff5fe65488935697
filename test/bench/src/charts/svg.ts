/**
 * A tiny dependency-free SVG chart helper for the benchmark docs: a line chart (linear or
 * log y axis) and a horizontal bar chart. Output is a standalone SVG string with inline
 * styles, readable on light and dark backgrounds (white canvas).
 */

export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
  /** Drawn thicker, on top. */
  readonly highlight?: boolean;
}

export interface LineChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Log10 y axis; values below 1 are drawn at 1 (the axis floor). */
  readonly logY?: boolean;
  readonly width?: number;
  readonly height?: number;
}

export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly highlight?: boolean;
}

export interface BarChartOptions {
  readonly title: string;
  readonly unit: string;
  readonly bars: readonly Bar[];
  /** A vertical reference line (e.g. the floor at 1.0x), with its label. */
  readonly reference?: { readonly value: number; readonly label: string };
  readonly width?: number;
}

const PALETTE = [
  '#d62728',
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#17becf',
  '#bcbd22',
];
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';

function escapeXml(text: string): string {
  return text.replace(
    /[&<>"]/g,
    (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot' }[c]};`,
  );
}

function fmt(value: number): string {
  if (value >= 1000) return `${Number((value / 1000).toFixed(1))}k`;
  return `${Number(value.toFixed(2))}`;
}

function niceStep(span: number, ticks: number): number {
  const raw = span / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const normalized = raw / magnitude;
  const nice = normalized <= 1 ? 1 : normalized <= 2 ? 2 : normalized <= 5 ? 5 : 10;
  return nice * magnitude;
}

function text(x: number, y: number, content: string, extra = '', size = 12): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${FONT} font-size="${size}" fill="#222" ${extra}>${escapeXml(content)}</text>`;
}

/** A line chart with a legend on the right. */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 860;
  const height = options.height ?? 420;
  const legendWidth = 220;
  const margin = { top: 40, right: legendWidth + 20, bottom: 50, left: 64 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const all = options.series.flatMap((s) => s.points);
  const xMin = Math.min(...all.map((p) => p[0]));
  const xMax = Math.max(...all.map((p) => p[0]));
  const yMaxRaw = Math.max(1, ...all.map((p) => p[1]));
  const logY = options.logY === true;
  const yTop = logY ? 10 ** Math.ceil(Math.log10(yMaxRaw)) : yMaxRaw * 1.05;
  const xPos = (x: number): number => margin.left + ((x - xMin) / (xMax - xMin || 1)) * plotW;
  const yPos = (y: number): number => {
    const fraction = logY ? Math.log10(Math.max(1, y)) / Math.log10(yTop) : y / yTop;
    return margin.top + plotH - fraction * plotH;
  };
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    text(margin.left, 22, options.title, 'font-weight="600"', 15),
  ];
  const yTicks = logY
    ? Array.from({ length: Math.log10(yTop) + 1 }, (_, i) => 10 ** i)
    : Array.from(
        { length: Math.floor(yTop / niceStep(yTop, 5)) + 1 },
        (_, i) => i * niceStep(yTop, 5),
      );
  for (const tick of yTicks) {
    const y = yPos(tick);
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e5e5e5"/>`,
    );
    parts.push(text(margin.left - 8, y + 4, fmt(tick), 'text-anchor="end"'));
  }
  const xStep = niceStep(xMax - xMin || 1, 10);
  for (let tick = Math.ceil(xMin / xStep) * xStep; tick <= xMax + 1e-9; tick += xStep) {
    const x = xPos(tick);
    parts.push(
      `<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${margin.top + plotH}" y2="${margin.top + plotH + 5}" stroke="#888"/>`,
    );
    parts.push(text(x, margin.top + plotH + 18, fmt(tick), 'text-anchor="middle"'));
  }
  parts.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`,
  );
  parts.push(text(margin.left + plotW / 2, height - 10, options.xLabel, 'text-anchor="middle"'));
  parts.push(
    text(
      16,
      margin.top + plotH / 2,
      options.yLabel,
      `text-anchor="middle" transform="rotate(-90 16 ${margin.top + plotH / 2})"`,
    ),
  );
  const ordered = options.series.map((s, i) => ({
    s,
    color: PALETTE[i % PALETTE.length] as string,
  }));
  for (const { s, color } of [...ordered].sort(
    (a, b) => Number(a.s.highlight ?? false) - Number(b.s.highlight ?? false),
  )) {
    const d = s.points
      .map((p, i) => `${i === 0 ? 'M' : 'L'}${xPos(p[0]).toFixed(1)},${yPos(p[1]).toFixed(1)}`)
      .join('');
    parts.push(
      `<path d="${d}" fill="none" stroke="${color}" stroke-width="${s.highlight ? 3 : 1.5}" stroke-opacity="${s.highlight ? 1 : 0.85}"/>`,
    );
  }
  ordered.forEach(({ s, color }, i) => {
    const y = margin.top + 10 + i * 20;
    const x = width - legendWidth;
    parts.push(
      `<line x1="${x}" x2="${x + 22}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="${s.highlight ? 3 : 2}"/>`,
    );
    parts.push(text(x + 28, y + 4, s.name, s.highlight ? 'font-weight="600"' : ''));
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** A horizontal bar chart, one bar per row, value labels at the bar ends. */
export function barChart(options: BarChartOptions): string {
  const width = options.width ?? 760;
  const rowH = 26;
  const margin = { top: 40, right: 70, bottom: 30, left: 230 };
  const height = margin.top + margin.bottom + rowH * options.bars.length;
  const plotW = width - margin.left - margin.right;
  const max = Math.max(...options.bars.map((b) => b.value), options.reference?.value ?? 0) * 1.05;
  const xPos = (v: number): number => margin.left + (v / max) * plotW;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    text(12, 22, options.title, 'font-weight="600"', 15),
  ];
  options.bars.forEach((bar, i) => {
    const y = margin.top + i * rowH;
    const color = bar.highlight ? PALETTE[0] : PALETTE[1];
    parts.push(
      text(
        margin.left - 8,
        y + rowH / 2 + 4,
        bar.label,
        `text-anchor="end"${bar.highlight ? ' font-weight="600"' : ''}`,
      ),
    );
    parts.push(
      `<rect x="${margin.left}" y="${y + 4}" width="${Math.max(1, xPos(bar.value) - margin.left).toFixed(1)}" height="${rowH - 8}" fill="${color}"/>`,
    );
    parts.push(text(xPos(bar.value) + 6, y + rowH / 2 + 4, `${fmt(bar.value)}${options.unit}`));
  });
  if (options.reference !== undefined) {
    const x = xPos(options.reference.value);
    parts.push(
      `<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${margin.top - 4}" y2="${height - margin.bottom + 4}" stroke="#222" stroke-dasharray="4 3"/>`,
    );
    parts.push(text(x, height - 10, options.reference.label, 'text-anchor="middle"'));
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
