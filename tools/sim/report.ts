// Compact text tables of simulation results.
import type { SimResult } from "./world";

const money = (cents: number) =>
  (cents / 100).toLocaleString("en-US", { minimumFractionDigits: 0, maximumFractionDigits: 0 });
const pct = (x: number, d = 1) => `${(x * 100).toFixed(d)}%`;
const sec = (ms: number) => (ms / 1000).toFixed(1);

export function spansText(r: SimResult, max = 4): string {
  const s = r.audit.spans;
  if (s.length === 0) return "-";
  const shown = s
    .slice(0, max)
    .map((x) => `${sec(x.fromMs)}-${sec(x.toMs)}s(${x.rows})`)
    .join(" ");
  return s.length > max ? `${shown} +${s.length - max}` : shown;
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === 0 || i === r.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** One row per policy: money, lag, audit risk, load on the processors. */
export function comparison(results: SimResult[]): string {
  const head = [
    "policy",
    "default",
    "fallback",
    "lag",
    "fees",
    "liquid",
    "liq/ceil0",
    "risky",
    "exp.ms",
    "P(fine)",
    "E[score]/ceil",
    "busy d/f",
    "429",
    "p99wait",
    "risk spans (s, rows)",
  ];
  const body = results.map((r) => [
    r.policy,
    String(r.processors.default.counted),
    String(r.processors.fallback.counted),
    String(r.lag),
    money(r.feesCents),
    money(r.liquidCents),
    pct(r.liquidShare),
    String(r.audit.risky),
    String(Math.round(r.audit.exposedMs)),
    pct(r.audit.pCaught),
    pct(r.expectedShare),
    `${r.processors.default.maxBusy}/${r.processors.fallback.maxBusy}`,
    String(r.processors.default.status429 + r.processors.fallback.status429),
    `${sec(r.p99WaitMs)}s`,
    spansText(r),
  ]);
  return table([head, ...body]);
}

export function header(r: SimResult): string {
  return (
    `${r.scenario}: accepted ${r.accepted}, ceiling ${money(r.ceilingCents)} (no bonus ` +
    `${money(r.ceilingNoBonusCents)}), seed ${r.seed}`
  );
}

/** Per-second activity, for reading one run: sends, inserts and failures by processor. */
export function timelineText(r: SimResult, everyS = 1): string {
  const head = ["t(s)", "sendD", "sendF", "insD", "insF", "500D", "500F", "429", "holds", "handed"];
  const rows: string[][] = [head];
  for (let i = 0; i < r.timeline.length; i += everyS) {
    const s = r.timeline.slice(i, i + everyS);
    const sum = (k: keyof (typeof s)[0]) => String(s.reduce((a, x) => a + x[k], 0));
    rows.push([
      String(i),
      sum("sendsD"),
      sum("sendsF"),
      sum("storedD"),
      sum("storedF"),
      sum("e500D"),
      sum("e500F"),
      sum("e429"),
      sum("holds"),
      String(s[s.length - 1]!.handedOut),
    ]);
  }
  return table(rows);
}
