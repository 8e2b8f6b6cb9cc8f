// Tiny inline-SVG charts for the HTML report (no scripts, no network).

export interface Series {
  name: string;
  color: string;
  ys: (number | null)[];
  xs?: number[];
}
export interface Mark {
  x: number;
  label: string;
}
export interface Level {
  y: number;
  label: string;
  color: string;
}
export interface Chart {
  title: string;
  yLabel: string;
  series: Series[];
  marks?: Mark[];
  levels?: Level[];
  xMax: number;
  yMax?: number;
  stacked?: boolean;
}

const W = 900,
  H = 290,
  L = 60,
  R = 150,
  T = 28,
  B = 56;
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

export function chart(c: Chart): string {
  const series = c.stacked ? stack(c.series) : c.series;
  const ys = series.flatMap((s) => s.ys.filter((y): y is number => y !== null));
  const yMax = niceMax(c.yMax ?? Math.max(1e-9, ...ys, ...(c.levels ?? []).map((l) => l.y)));
  const xMax = Math.max(1, c.xMax);
  const px = (x: number) => L + (x / xMax) * (W - L - R);
  const py = (y: number) => T + (1 - Math.min(y, yMax) / yMax) * (H - T - B);
  const out: string[] = [
    `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg" ` +
      `font-family="sans-serif" font-size="11">`,
  ];
  out.push(`<text x="${L}" y="16" font-size="13" font-weight="bold">${esc(c.title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const y = (yMax * i) / 4;
    out.push(
      `<line x1="${L}" x2="${W - R}" y1="${py(y)}" y2="${py(y)}" stroke="#eee"/><text x="${L - 4}" y="${py(y) + 4}" ` +
        `text-anchor="end">${fmt(y)}</text>`,
    );
  }
  const step = niceMax(xMax / 10);
  for (let x = 0; x <= xMax; x += step) {
    out.push(`<text x="${px(x)}" y="${H - B + 14}" text-anchor="middle">${fmt(x)}</text>`);
  }
  out.push(`<text x="${(L + W - R) / 2}" y="${H - B + 28}" text-anchor="middle">seconds</text>`);
  out.push(
    `<text x="12" y="${(T + H - B) / 2}" transform="rotate(-90 12 ${(T + H - B) / 2})" ` +
      `text-anchor="middle">${esc(c.yLabel)}</text>`,
  );
  if (c.stacked) out.push(bars(series, px, py, T));
  else for (const s of series) out.push(path(s, px, py));
  (c.marks ?? []).forEach((m, i) => {
    out.push(`<line x1="${px(m.x)}" x2="${px(m.x)}" y1="${T}" y2="${H - B}" stroke="#999" stroke-dasharray="3 3"/>`);
    out.push(`<text x="${px(m.x) + 2}" y="${T + 8 + (i % 3) * 10}" font-size="9" fill="#555">${esc(m.label)}</text>`);
  });
  // Level labels sit in the right margin, pushed apart so close levels stay readable.
  let lastY = -Infinity;
  for (const l of [...(c.levels ?? [])].sort((a, b) => b.y - a.y)) {
    const y = Math.max(py(l.y) + 4, lastY + 12);
    lastY = y;
    out.push(
      `<line x1="${L}" x2="${W - R}" y1="${py(l.y)}" y2="${py(l.y)}" stroke="${l.color}" stroke-dasharray="6 3"/>`,
    );
    out.push(`<text x="${W - R + 4}" y="${y}" fill="${l.color}">${esc(l.label)}</text>`);
  }
  let lx = L;
  for (const s of c.series) {
    out.push(
      `<rect x="${lx}" y="${H - 16}" width="10" height="10" fill="${s.color}"/><text x="${lx + 14}" ` +
        `y="${H - 7}">${esc(s.name)}</text>`,
    );
    lx += 24 + 7 * s.name.length;
  }
  out.push(
    `<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="#333"/><line x1="${L}" x2="${W - R}" y1="${H - B}" ` +
      `y2="${H - B}" stroke="#333"/></svg>`,
  );
  return out.join("");
}

function path(s: Series, px: (x: number) => number, py: (y: number) => number): string {
  let d = "";
  let open = false;
  for (const [i, y] of s.ys.entries()) {
    if (y === null) {
      open = false;
      continue;
    }
    d += `${open ? "L" : "M"}${px(s.xs?.[i] ?? i + 0.5).toFixed(1)} ${py(y).toFixed(1)}`;
    open = true;
  }
  return d ? `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/>` : "";
}

/** Stacked one-second bars (series already cumulated); a missing value leaves a gap. */
function bars(series: Series[], px: (x: number) => number, py: (y: number) => number, top: number): string {
  const out: string[] = [];
  const w = Math.max(1, px(1) - px(0));
  series.forEach((s, k) => {
    s.ys.forEach((y, i) => {
      if (y === null) return;
      const below = k === 0 ? 0 : (series[k - 1]!.ys[i] ?? 0);
      const x = px(s.xs?.[i] ?? i + 0.5) - w / 2;
      const y1 = Math.max(top, py(y));
      const h = py(below) - y1;
      if (h > 0)
        out.push(
          `<rect x="${x.toFixed(1)}" y="${y1.toFixed(1)}" width="${(w * 0.9).toFixed(1)}" height="${h.toFixed(1)}" ` +
            `fill="${s.color}"/>`,
        );
    });
  });
  return out.join("");
}

/** Cumulative sums, so each series' bar sits on the one before; null where the first series is null. */
function stack(series: Series[]): Series[] {
  const acc: (number | null)[] = [];
  return series.map((s, k) => ({
    ...s,
    ys: s.ys.map((y, i) => {
      const prev = acc[i];
      acc[i] = k === 0 ? y : prev === null || prev === undefined ? null : prev + (y ?? 0);
      return acc[i] ?? null;
    }),
  }));
}

function niceMax(x: number): number {
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (x <= m * p) return m * p;
  return 10 * p;
}

export function fmt(x: number): string {
  if (x === 0) return "0";
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1).replace(/\.0$/, "");
  return x.toFixed(2).replace(/\.?0+$/, "");
}
