// The self-contained HTML report: inline SVG plots and the score breakdown.
import type { Floor } from "./floor";
import type { Official } from "./results";
import type { RunResult } from "./run";
import { chart, fmt, type Mark, type Series } from "./svg";

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
const money = (x: number) => x.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export function reportHtml(r: RunResult, o: Official, floor: Floor | null, title: string): string {
  const xMax = r.plan.durationMs / 1000 + 2;
  const marks: Mark[] = r.stages.map((s) => ({
    x: s.appliedAtS,
    label: `d${s.defaultDelay}${s.defaultFailure ? "✗" : ""} f${s.fallbackDelay}${s.fallbackFailure ? "✗" : ""}`,
  }));
  const samples = r.series.samples;
  const delta = (k: "defaultTotal" | "fallbackTotal") =>
    samples.map((s, i) => {
      const prev = i === 0 ? 0 : samples[i - 1]![k];
      return s[k] === null || prev === null ? null : s[k]! - prev;
    });
  const dDef = delta("defaultTotal");
  const dFb = delta("fallbackTotal");
  const xs = samples.map((s) => s.s - 0.5); // each sample closes the second before it
  const processed = dDef.map((d, i) => (d === null || dFb[i] === null ? null : d + dFb[i]!));
  const share = (mine: (number | null)[]) =>
    mine.map((m, i) => (m === null || !processed[i] ? null : (100 * m) / processed[i]!));
  const levels = [{ y: r.score.p99, label: `p99 all ${r.score.p99} ms`, color: "#c00" }];
  for (const l of floor?.legs ?? [])
    levels.push({ y: l.p99Ms, label: `floor ${l.via} ${l.p99Ms} ms`, color: l.via === "direct" ? "#090" : "#06c" });

  const plots = [
    chart({
      title: "POST /payments latency per second (ms)",
      yLabel: "ms",
      xMax,
      marks,
      levels,
      series: [
        { name: "p99", color: "#d62728", ys: r.series.p99 },
        { name: "p50", color: "#1f77b4", ys: r.series.p50 },
      ],
    }),
    chart({
      title: "Accepted (2xx POSTs, by send second) vs processed (stored by the processors)",
      yLabel: "payments / s",
      xMax,
      marks,
      series: [
        { name: "accepted", color: "#1f77b4", ys: r.series.acceptedPerSecond },
        { name: "processed", color: "#2ca02c", ys: processed, xs },
        { name: "failed POSTs", color: "#d62728", ys: r.series.failedPerSecond },
      ],
    }),
    chart({
      title: "Processor share of what was processed each second (%)",
      yLabel: "%",
      xMax,
      marks,
      yMax: 100,
      stacked: true,
      series: [
        { name: "default", color: "#2ca02c", ys: share(dDef), xs },
        { name: "fallback", color: "#ff7f0e", ys: share(dFb), xs },
      ] as Series[],
    }),
  ];
  if (samples.some((s) => s.queueDepth !== null)) {
    plots.push(
      chart({
        title: "Backend queue depth (GET /metrics)",
        yLabel: "payments",
        xMax,
        marks,
        series: [{ name: "queue depth", color: "#9467bd", ys: samples.map((s) => s.queueDepth), xs }],
      }),
    );
  }
  plots.push(
    chart({
      title: "Runner: active VUs, CPU (% of one core), event-loop delay p99 (ms x10)",
      yLabel: "",
      xMax,
      marks,
      series: [
        { name: "VUs", color: "#7f7f7f", ys: samples.map((s) => s.vus), xs },
        { name: "runner CPU %", color: "#e377c2", ys: samples.map((s) => s.cpuPct), xs },
        { name: "loop p99 x10", color: "#17becf", ys: samples.map((s) => s.loopP99Ms * 10), xs },
      ],
    }),
  );

  const s = r.score;
  const rows: [string, string][] = [
    ["score (total_liquido)", money(s.score)],
    [
      "ceiling (all accepted on the cheapest fee, 20% bonus)",
      `${money(r.ceiling)} (${r.ceiling ? ((100 * s.score) / r.ceiling).toFixed(1) : "0"}% reached)`,
    ],
    ["paid (total_bruto)", money(s.paid)],
    ["fees (total_taxas)", money(s.fees)],
    ["liquid = paid - fees", money(s.liquidPartial)],
    [
      "p99 (every successful request, rounded)",
      `${s.p99} ms (raw ${r.p99RawMs.toFixed(3)} ms over ${r.requestsTimed} requests; ` +
        `POSTs alone ${r.postP99Ms.toFixed(3)} ms; p50 ${r.p50Ms.toFixed(3)} ms)`,
    ],
    [
      "floor p99 (bare responder)",
      floor ? floor.legs.map((l) => `${l.via} ${l.p99Ms} ms`).join(", ") : "not measured (run --floor)",
    ],
    ["bonus", `${s.bonusPct}% = +${money(s.bonusAmount)}`],
    [
      "inconsistencies",
      `${r.inconsistencies} (checks with a difference: ${r.checksWithDifference} of ${r.checks.length})`,
    ],
    ["fine", `${s.finePct}% = -${money(s.fineAmount)}`],
    ["accepted / failed POSTs", `${r.accepted} / ${r.failed} (timeouts ${r.timeouts})`],
    [
      `counted (teardown from ${r.teardown.source})`,
      `${s.counted}: default ${s.default.num_pagamentos}, fallback ${s.fallback.num_pagamentos}`,
    ],
    ["lag", `${s.lag}${s.disqualified ? " — NEGATIVE: disqualified" : ""}`],
    [
      "runner CPU at >= 90% of peak VUs",
      `${r.runner.cpuMeanPct.toFixed(0)}% mean, ${r.runner.cpuMaxPct.toFixed(0)}% max of one core; ` +
        `event-loop p99 max ${r.runner.loopP99MaxMs.toFixed(2)} ms`,
    ],
  ];
  const checks = r.checks
    .map(
      (c) =>
        `<tr><td>${c.atS.toFixed(1)}</td><td>${c.backend.default} / ${c.processors.default}</td>` +
        `<td>${c.backend.fallback} / ${c.processors.fallback}</td><td${c.value ? ' class="bad"' : ""}>${c.value}</td>` +
        `<td>${c.backendOk ? "" : "backend summary failed"}</td></tr>`,
    )
    .join("");
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title><style>
body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 20px}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
.bad{color:#c00;font-weight:bold}svg{display:block;margin:10px 0}small{color:#666}</style></head><body>
<h1>${esc(title)}</h1>
<p><small>${esc(o.timestamp)} · scenario ${r.plan.scenario.name} · ${fmt(r.plan.durationMs / 1000)} s ·
1 → ${r.plan.maxVus} VUs · dashed lines: stage changes (d = default delay ms, f = fallback delay ms, ✗ = failing)
</small></p>
<h2>Score</h2><table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join("")}</table>
${plots.join("\n")}
<h2>Consistency checks</h2><table><tr><th>at s</th><th>default backend / processor</th>
<th>fallback backend / processor</th><th>value</th><th></th></tr>${checks}</table>
<h2>POST statuses</h2><p>${esc(
    Object.entries(r.statuses)
      .map(([k, n]) => `${k}: ${n}`)
      .join(", "),
  )}</p>
</body></html>`;
}
