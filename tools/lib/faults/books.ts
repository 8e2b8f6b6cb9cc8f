// The three checks every fault case ends with, after the backlog has drained:
//   1. every POST answered 2xx is recorded exactly once across the two processors (none missing), and every
//      row at a processor is a payment we sent, with its amount;
//   2. the backend's summary equals the processors' admin summaries exactly (count and cents per processor)
//      for the whole run and for random windows, some starting or ending exactly on a stored requestedAt;
//   3. no correlationId is at both processors.
import type { Emulator } from "../../emulator/server";
import { byLabel, parseMetrics, total } from "../metrics-text";
import { sleep } from "../procs";
import type { Load } from "./load";

export interface Books {
  /** An API process to ask (called each time: the test may switch to a surviving one). */
  api(): string;
  def: Emulator;
  fb: Emulator;
  load: Load;
}

interface Side {
  count: number;
  cents: number;
}
export interface Split {
  default: Side;
  fallback: Side;
}

const TOKEN = { "x-rinha-token": "123" };

async function getJson<T>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return (await res.json()) as T;
}

const query = (from?: string, to?: string) => {
  const q = new URLSearchParams();
  if (from) q.set("from", from);
  if (to) q.set("to", to);
  return q.size ? `?${q}` : "";
};

export async function backendSummary(api: string, from?: string, to?: string): Promise<Split> {
  type S = { totalRequests: number; totalAmount: number };
  const s = await getJson<{ default: S; fallback: S }>(`${api}/payments-summary${query(from, to)}`);
  const side = (x: S) => ({ count: x.totalRequests, cents: Math.round(x.totalAmount * 100) });
  return { default: side(s.default), fallback: side(s.fallback) };
}

/** The processors' own books, over HTTP, as the contest's auditor reads them. */
export async function adminSummary(b: Books, from?: string, to?: string): Promise<Split> {
  type A = { totalRequests: number; totalAmount: number };
  const [d, f] = await Promise.all(
    [b.def, b.fb].map((e) => getJson<A>(`${e.url}/admin/payments-summary${query(from, to)}`, TOKEN)),
  );
  const side = (x: A) => ({ count: x.totalRequests, cents: Math.round(x.totalAmount * 100) });
  return { default: side(d!), fallback: side(f!) };
}

/** The queue_depth gauge of an API's /metrics by state (ready, pending, delayed); undefined when unreadable. */
export async function queueStates(api: string): Promise<Record<string, number> | undefined> {
  try {
    const res = await fetch(`${api}/metrics`, { signal: AbortSignal.timeout(5000) });
    const states = byLabel(parseMetrics(await res.text()), "queue_depth", "state");
    return Object.keys(states).length < 3 ? undefined : states;
  } catch {
    return undefined;
  }
}

/** ready + pending + delayed; undefined when it cannot be read. */
export async function queueDepth(api: string): Promise<number | undefined> {
  const s = await queueStates(api);
  return s && Object.values(s).reduce((n, v) => n + v, 0);
}

/** Sum of a Prometheus series (all label sets matching `labels`) in a metrics text. */
export function metric(text: string, name: string, labels = ""): number {
  return total(parseMetrics(text), name, labels);
}

function describeState(b: Books, depth: number | undefined, backend: Split | undefined): string {
  const accepted = b.load.accepted();
  const missing = accepted.filter((s) => !b.def.get(s.id) && !b.fb.get(s.id)).length;
  const rows = b.def.rows().length + b.fb.rows().length;
  const bk = backend ? backend.default.count + backend.fallback.count : "?";
  return (
    `queue depth ${depth ?? "?"}, accepted ${accepted.length} (${missing} not at any processor), processor rows ` +
    `${rows}, backend counts ${bk}`
  );
}

/**
 * Polls until the queue is empty, every accepted payment is at a processor, and the backend counts what
 * the processors hold, twice in a row. Resolves with how long it took and whether it got there.
 */
export async function waitDrained(
  b: Books,
  timeoutMs = 90_000,
): Promise<{ drained: boolean; ms: number; state: string }> {
  const t0 = Date.now();
  let good = 0,
    state = "",
    emptySince = 0;
  while (Date.now() - t0 < timeoutMs) {
    const api = b.api();
    const depth = await queueDepth(api);
    // Nothing left to forward for 10 s and the books still differ: waiting longer cannot fix them.
    emptySince = depth === 0 ? emptySince || Date.now() : 0;
    if (emptySince && Date.now() - emptySince > 10_000) break;
    const backend = await backendSummary(api).catch(() => undefined);
    state = describeState(b, depth, backend);
    const d = b.def.summary(),
      f = b.fb.summary();
    const ok =
      depth === 0 &&
      backend !== undefined &&
      backend.default.count === d.totalRequests &&
      backend.default.cents === Number(d.totalCents) &&
      backend.fallback.count === f.totalRequests &&
      backend.fallback.cents === Number(f.totalCents) &&
      b.load.accepted().every((s) => b.def.get(s.id) || b.fb.get(s.id));
    good = ok ? good + 1 : 0;
    if (good >= 2) return { drained: true, ms: Date.now() - t0, state };
    await sleep(300);
  }
  return { drained: false, ms: Date.now() - t0, state };
}

export interface CheckReport {
  sent: number;
  accepted: number;
  /** Rows at the processors whose POST was not answered 2xx (lost answer, killed API): allowed. */
  landedNotAccepted: number;
  default: number;
  fallback: number;
  windows: number;
  drainMs: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

const show = (x: unknown) => JSON.stringify(x);

/**
 * Drains, then runs the three checks. Returns what it saw and every difference found, as sentences (no
 * test framework needed, so bench/soak.ts can use it too).
 */
export async function checkBooks(
  b: Books,
  /** windowsFrom: random windows only from this epoch ms on (the ledger's retention: older edges are per bucket). */
  opts: { windows?: number; drainTimeoutMs?: number; windowsFrom?: number } = {},
): Promise<{ report: CheckReport; problems: string[] }> {
  const problems: string[] = [];
  const drain = await waitDrained(b, opts.drainTimeoutMs ?? 90_000);
  if (!drain.drained) problems.push(`backlog not drained after ${drain.ms} ms: ${drain.state}`);
  const defRows = b.def.rows(),
    fbRows = b.fb.rows();
  const accepted = b.load.accepted();

  // (3) no correlationId at both processors.
  const atDefault = new Set(defRows.map((r) => r.correlationId));
  const both = fbRows.filter((r) => atDefault.has(r.correlationId)).map((r) => r.correlationId);
  if (both.length)
    problems.push(`${both.length} correlationIds stored at both processors, e.g. ${both.slice(0, 5).join(", ")}`);

  // (1) every accepted payment exactly once; every stored row is one of ours with our amount.
  const missing = accepted.filter((s) => !b.def.get(s.id) && !b.fb.get(s.id)).map((s) => s.id);
  if (missing.length)
    problems.push(
      `${missing.length} payments answered 2xx are at no processor, e.g. ${missing.slice(0, 5).join(", ")}`,
    );
  const strangers = [...defRows, ...fbRows].filter((r) => b.load.sent.get(r.correlationId)?.cents !== r.amountCents);
  if (strangers.length)
    problems.push(
      `${strangers.length} rows we never sent or with another amount, e.g. ${strangers
        .slice(0, 5)
        .map((r) => `${r.correlationId}=${r.amountCents}`)
        .join(", ")}`,
    );
  const acceptedIds = new Set(accepted.map((s) => s.id));
  const landedNotAccepted = [...defRows, ...fbRows].filter((r) => !acceptedIds.has(r.correlationId)).length;

  // (2) the books: whole run, against the admin summaries and against the rows themselves.
  const api = b.api();
  const compare = async (label: string, from?: string, to?: string) => {
    const [ours, theirs] = await Promise.all([backendSummary(api, from, to), adminSummary(b, from, to)]);
    if (show(ours) !== show(theirs)) problems.push(`${label}: backend ${show(ours)} != processors ${show(theirs)}`);
    return ours;
  };
  const whole = await compare("whole run");
  const sum = (rows: typeof defRows) => ({ count: rows.length, cents: rows.reduce((n, r) => n + r.amountCents, 0) });
  const rowsSplit = { default: sum(defRows), fallback: sum(fbRows) };
  if (show(whole) !== show(rowsSplit))
    problems.push(`whole run: backend ${show(whole)} != processors' rows ${show(rowsSplit)}`);

  const times = [...defRows, ...fbRows]
    .map((r) => Date.parse(r.requestedAt))
    .filter((t) => t >= (opts.windowsFrom ?? 0))
    .sort((x, y) => x - y);
  const windows = opts.windows ?? 20;
  if (times.length > 0) {
    const lo = times[0]!,
      hi = times[times.length - 1]!;
    const pick = () => times[Math.floor(Math.random() * times.length)]!;
    const any = () => Math.max(opts.windowsFrom ?? 0, lo - 500 + Math.floor(Math.random() * (hi - lo + 1000)));
    for (let i = 0; i < windows; i++) {
      let a: number, z: number;
      switch (i % 4) {
        case 0:
          a = pick();
          z = a + Math.floor(Math.random() * (hi - a + 1));
          break; // starts on a row
        case 1:
          z = pick();
          a = z - Math.floor(Math.random() * (z - lo + 1));
          break; // ends on a row
        case 2:
          a = z = pick();
          break; // exactly one millisecond, on a row
        default:
          a = any();
          z = a + Math.floor(Math.random() * (hi - lo + 1));
          break;
      }
      await compare(`window ${iso(a)} .. ${iso(z)}`, iso(a), iso(z));
    }
  }
  return {
    report: {
      sent: b.load.sent.size,
      accepted: accepted.length,
      landedNotAccepted,
      default: defRows.length,
      fallback: fbRows.length,
      windows,
      drainMs: drain.ms,
    },
    problems,
  };
}
