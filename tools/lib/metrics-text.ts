// Reading the Prometheus text format (what GET /metrics answers), for tests, benchmarks and the contest runner.

/** Series ("name" or "name{labels}") -> value; comments and lines that are not a sample are skipped. */
export function parseMetrics(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split("\n")) {
    const s = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?)\s+(\S+)/.exec(line);
    if (!s) continue;
    const v = Number(s[2]);
    if (!Number.isNaN(v) || s[2] === "NaN") m.set(s[1]!, v);
  }
  return m;
}

/** The metric name of a series key: `queue_depth{state="ready"}` -> `queue_depth`. */
export function baseName(series: string): string {
  const i = series.indexOf("{");
  return i < 0 ? series : series.slice(0, i);
}

/** Sum of every series of `name` whose labels contain `labels` (e.g. `processor="default"`; "" = all). */
export function total(m: Map<string, number>, name: string, labels = ""): number {
  let n = 0;
  for (const [k, v] of m) if (baseName(k) === name && k.includes(labels) && Number.isFinite(v)) n += v;
  return n;
}

/** The series of `name` by the value of one label: queue_depth by state -> { ready, pending, delayed }. */
export function byLabel(m: Map<string, number>, name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  const re = new RegExp(`[{,]${label}="([^"]*)"`);
  for (const [k, v] of m) {
    const l = baseName(k) === name ? re.exec(k) : null;
    if (l) out[l[1]!] = (out[l[1]!] ?? 0) + v;
  }
  return out;
}
