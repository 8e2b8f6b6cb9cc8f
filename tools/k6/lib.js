// Shared logic of our k6 scripts for the two Rinha 2025 scenarios (rinha.js = preview,
// rinha-final.js = final). Same rules as tools/contest (docs/contest.md), no remote imports.
// Env: BASE_URL (http://localhost:9999), PP_DEFAULT_URL (http://localhost:8001),
// PP_FALLBACK_URL (http://localhost:8002), TOKEN (123), MAX_REQUESTS, PARTICIPANT, RESULTS_FILE,
// SCHEDULE_FILE (a JSON schedule from `npm run sim -- --write-schedule`: replaces the script's own stages,
// length, VUs, amount and rules; start the processors with its fees).
import { sleep } from "k6";
import { randomBytes } from "k6/crypto";
import http from "k6/http";
import { Counter } from "k6/metrics";

const BASE = __ENV.BASE_URL || "http://localhost:9999";
const PP = {
  default: __ENV.PP_DEFAULT_URL || "http://localhost:8001",
  fallback: __ENV.PP_FALLBACK_URL || "http://localhost:8002",
};
const INITIAL_TOKEN = "123";
const TOKEN = __ENV.TOKEN || INITIAL_TOKEN;
const JSON_HEADERS = { "Content-Type": "application/json" };
/** @param {string} [token] */
const admin = (token = TOKEN) => ({
  headers: { "Content-Type": "application/json", "X-Rinha-Token": token },
  timeout: "1500ms",
});

/** k6 has a console, which @types/k6 does not declare. @type {{ warn(...args: unknown[]): void }} */
const log = /** @type {any} */ (globalThis).console;

const accepted = new Counter("transactions_success");
const failed = new Counter("transactions_failure");
const inconsistencies = new Counter("payments_inconsistency");
const counted = {
  default: {
    requests: new Counter("default_total_requests"),
    amount: new Counter("default_total_amount"),
    fee: new Counter("default_fee_per_transaction"),
  },
  fallback: {
    requests: new Counter("fallback_total_requests"),
    amount: new Counter("fallback_total_amount"),
    fee: new Counter("fallback_fee_per_transaction"),
  },
};

/**
 * @typedef {{ totalRequests: number, totalAmount: number }} Summary
 * @typedef {Summary & { totalFee: number, feePerTransaction: number }} AdminSummary
 * @typedef {{ default: Summary, fallback: Summary }} BackendSummary
 * @typedef {{
 *   at: number, defaultDelay: number, defaultFailure: boolean, fallbackDelay: number, fallbackFailure: boolean
 * }} Stage
 * @typedef {{
 *   name: string, durationS: number, maxVus: number, amount: number, window: [number, number],
 *   formula: "signed" | "absolute", teardown: "backend" | "processors", teardownWindowS: number, stages: Stage[]
 * }} Scenario
 */

/**
 * The script's scenario, or the schedule in SCHEDULE_FILE (tools/contest/schedule.ts file form) when set.
 * @param {Scenario} own @returns {Scenario}
 */
export function scheduleOr(own) {
  if (!__ENV.SCHEDULE_FILE) return own;
  const f = JSON.parse(open(__ENV.SCHEDULE_FILE));
  if (!Array.isArray(f.stages) || !(f.durationS > 0) || !(f.maxVus > 0))
    throw new Error(`${__ENV.SCHEDULE_FILE}: needs durationS, maxVus and stages (npm run sim -- --write-schedule)`);
  return {
    name: String(f.name || own.name),
    durationS: f.durationS,
    maxVus: f.maxVus,
    amount: f.amount ?? own.amount,
    window: f.check ? [f.check.fromAgoMs, f.check.toAgoMs] : own.window,
    formula: f.check?.formula ?? own.formula,
    teardown: f.teardown?.source ?? own.teardown,
    teardownWindowS: Math.max(f.teardown?.windowS ?? own.teardownWindowS, f.durationS + 10),
    stages: f.stages,
  };
}

/** k6 options for a scenario: the ramp, the checker VU, one short scenario per stage (its values in env). */
/** @param {Scenario} s @param {number} maxVus @returns {import("k6/options").Options} */
export function optionsFor(s, maxVus) {
  /** @type {NonNullable<import("k6/options").Options["scenarios"]>} */
  const scenarios = {
    payments: {
      exec: "payments",
      executor: "ramping-vus",
      startVUs: 1,
      gracefulRampDown: "0s",
      stages: [{ target: maxVus, duration: `${s.durationS}s` }],
    },
    payments_consistency: { exec: "checkPayments", executor: "constant-vus", vus: 1, duration: `${s.durationS}s` },
  };
  s.stages.forEach((st, i) => {
    scenarios[`stage_${String(i).padStart(2, "0")}`] = {
      exec: "defineStage",
      executor: "constant-vus",
      vus: 1,
      duration: "1s",
      startTime: `${st.at}s`,
      env: { STAGE: JSON.stringify(st) },
    };
  });
  return { summaryTrendStats: ["p(50)", "p(99)", "count"], scenarios };
}

export function setup() {
  for (const which of /** @type {const} */ (["default", "fallback"])) {
    const t = http.put(
      `${PP[which]}/admin/configurations/token`,
      JSON.stringify({ token: TOKEN }),
      admin(INITIAL_TOKEN),
    );
    if (t.status !== 204) throw new Error(`setting the token on ${which} (${PP[which]}) answered HTTP ${t.status}`);
    const p = http.post(`${PP[which]}/admin/purge-payments`, null, admin());
    if (p.status !== 200) throw new Error(`purging ${which} (${PP[which]}) answered HTTP ${p.status}`);
  }
  http.post(`${BASE}/purge-payments`, null, { timeout: "1500ms" }); // failures ignored, like the official script
}

/** A random v4 uuid from k6/crypto (no remote jslib). */
function uuidv4() {
  const b = new Uint8Array(randomBytes(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** One payment VU iteration: POST then sleep 1 s. @param {number} amount */
export function pay(amount) {
  const r = http.post(`${BASE}/payments`, JSON.stringify({ correlationId: uuidv4(), amount }), {
    headers: JSON_HEADERS,
    timeout: "1500ms",
  });
  const ok = r.status >= 200 && r.status < 300;
  accepted.add(ok ? 1 : 0);
  failed.add(ok ? 0 : 1);
  sleep(1);
}

/** @param {"default" | "fallback"} which @param {string} from @param {string} to @returns {AdminSummary} */
function adminSummary(which, from, to) {
  const r = http.get(`${PP[which]}/admin/payments-summary?from=${from}&to=${to}`, admin());
  return r.status === 200
    ? /** @type {AdminSummary} */ (r.json())
    : { totalRequests: 0, totalAmount: 0, totalFee: 0, feePerTransaction: 0 };
}

/** One checker iteration: the three summaries at once, then sleep 10 s. @param {Scenario} s */
export function check(s) {
  const now = Date.now();
  const from = new Date(now - s.window[0]).toISOString();
  const to = new Date(now - s.window[1]).toISOString();
  const q = `?from=${from}&to=${to}`;
  const [d, f, b] = http.batch([
    ["GET", `${PP.default}/admin/payments-summary${q}`, null, admin()],
    ["GET", `${PP.fallback}/admin/payments-summary${q}`, null, admin()],
    ["GET", `${BASE}/payments-summary${q}`, null, { timeout: "1500ms" }],
  ]);
  const zero = { totalRequests: 0, totalAmount: 0 };
  const dd = d.status === 200 ? /** @type {Summary} */ (d.json()) : zero;
  const ff = f.status === 200 ? /** @type {Summary} */ (f.json()) : zero;
  const bb = b.status === 200 ? /** @type {BackendSummary} */ (b.json()) : { default: zero, fallback: zero };
  const dDiff = bb.default.totalRequests - dd.totalRequests;
  const fDiff = bb.fallback.totalRequests - ff.totalRequests;
  const value = s.formula === "absolute" ? Math.abs(dDiff) + Math.abs(fDiff) : dDiff + fDiff;
  inconsistencies.add(value);
  if (value !== 0)
    log.warn(
      `inconsistency ${value}: backend ${bb.default.totalRequests}/${bb.fallback.totalRequests} ` +
        `vs processors ${dd.totalRequests}/${ff.totalRequests}`,
    );
  sleep(10);
}

/** Applies this stage scenario's values (env STAGE) in the official order. */
export function defineStage() {
  const st = /** @type {Stage} */ (JSON.parse(__ENV.STAGE || "{}"));
  const calls = [
    [PP.default, "delay", { delay: st.defaultDelay }],
    [PP.fallback, "delay", { delay: st.fallbackDelay }],
    [PP.default, "failure", { failure: st.defaultFailure }],
    [PP.fallback, "failure", { failure: st.fallbackFailure }],
  ];
  for (const [url, what, body] of calls) {
    const r = http.put(`${url}/admin/configurations/${what}`, JSON.stringify(body), admin());
    if (r.status !== 200) throw new Error(`setting ${what} on ${url} answered HTTP ${r.status}`);
  }
  sleep(1);
}

/** Reads the counted payments from the scenario's source right after the end. @param {Scenario} s */
export function teardownFor(s) {
  const to = new Date();
  const from = new Date(to.getTime() - s.teardownWindowS * 1000);
  const [f1, t1] = [from.toISOString(), to.toISOString()];
  const d = adminSummary("default", f1, t1);
  const f = adminSummary("fallback", f1, t1);
  /** @type {{ default: Summary, fallback: Summary }} */
  let c = { default: d, fallback: f };
  if (s.teardown === "backend") {
    const b = http.get(`${BASE}/payments-summary?from=${f1}&to=${t1}`, { timeout: "1500ms" });
    const zero = { totalRequests: 0, totalAmount: 0 };
    c = b.status === 200 ? /** @type {BackendSummary} */ (b.json()) : { default: zero, fallback: zero };
  }
  for (const [which, fee] of /** @type {const} */ ([
    ["default", d.feePerTransaction],
    ["fallback", f.feePerTransaction],
  ])) {
    counted[which].requests.add(c[which].totalRequests);
    counted[which].amount.add(c[which].totalAmount);
    counted[which].fee.add(fee);
  }
}

/**
 * The results file, same shape and field names as the official one; money on integers.
 * @param {Scenario} s @param {number} maxVus
 * @param {{ metrics: Record<string, { values: Record<string, number> }> }} data
 */
export function summaryFor(s, maxVus, data) {
  /** @param {string} name @param {string} [stat] */
  const m = (name, stat = "count") => (data.metrics[name] ? data.metrics[name].values[stat] || 0 : 0);
  const ok = m("transactions_success");
  const ko = m("transactions_failure");
  const proc = /** @param {"default" | "fallback"} w */ (w) => {
    const cents = Math.round(m(`${w}_total_amount`) * 100);
    const feeMicro = cents * Math.round(m(`${w}_fee_per_transaction`) * 10000); // 1e-6 units
    return { n: m(`${w}_total_requests`), cents, feeMicro };
  };
  const d = proc("default");
  const f = proc("fallback");
  const liquidMicro = (d.cents + f.cents) * 10000 - d.feeMicro - f.feeMicro;
  const p99 = Math.floor(m("http_req_duration{expected_response:true}", "p(99)") * 100 + 0.5 + 1e-9) / 100;
  const bonus = Math.max(Math.floor(((1100 - Math.round(p99 * 100)) * 2 + 50) / 100), 0); // integer percent, half-up
  const n = m("payments_inconsistency");
  const fine = n > 0 ? 35 : 0;
  const lag = ok - (d.n + f.n);
  const money = /** @param {number} micro */ (micro) => micro / 1e6;
  const result = {
    timestamp: new Date().toISOString(),
    participante: __ENV.PARTICIPANT || "anonymous",
    total_liquido: (liquidMicro * (100 + bonus - fine)) / 1e8,
    total_bruto: (d.cents + f.cents) / 100,
    total_taxas: money(d.feeMicro + f.feeMicro),
    descricao: "total_liquido is the score: (paid - fees) * (1 + p99.bonus - multa.porcentagem).",
    p99: {
      valor: `${p99}ms`,
      bonus: `${bonus}%`,
      max_requests: String(maxVus),
      descricao: "bonus = max(round2((11 - p99) * 0.02), 0), half-up.",
    },
    multa: {
      porcentagem: fine / 100,
      total: (liquidMicro * fine) / 1e8,
      composicao: { num_inconsistencias: n, descricao: "A 35% fine when num_inconsistencias > 0." },
    },
    caixa_dois: {
      detectado: lag < 0,
      descricao: "A negative lag (more payments counted than requested) disqualifies.",
    },
    lag: {
      num_pagamentos_total: d.n + f.n,
      num_pagamentos_solicitados: ok,
      lag,
      descricao: "Accepted POST /payments minus payments counted at the end.",
    },
    pagamentos_solicitados: {
      qtd_sucesso: ok,
      qtd_falha: ko,
      descricao: "POST /payments answered 2xx (qtd_sucesso) or not (qtd_falha).",
    },
    pagamentos_realizados_default: {
      total_bruto: d.cents / 100,
      num_pagamentos: d.n,
      total_taxas: money(d.feeMicro),
      descricao: "Counted on the default processor.",
    },
    pagamentos_realizados_fallback: {
      total_bruto: f.cents / 100,
      num_pagamentos: f.n,
      total_taxas: money(f.feeMicro),
      descricao: "Counted on the fallback processor.",
    },
  };
  const text =
    `${s.name}: score ${result.total_liquido} | p99 ${p99} ms (bonus ${bonus}%) | inconsistencies ${n} | ` +
    `lag ${lag} | accepted ${ok}, failed ${ko}\n`;
  return {
    stdout: text,
    [__ENV.RESULTS_FILE || `./${s.name === "final" ? "final" : "partial"}-results.json`]: JSON.stringify(
      result,
      null,
      2,
    ),
  };
}
