// Structured logs: one JSON line per event on stderr, quiet by default (LOG_LEVEL=warn), and off the hot
// path: repeats of the same event are counted and summarised, so a failure storm (Redis away, a processor
// failing) costs one write per second per event, not one per request.

export type Level = "debug" | "info" | "warn" | "error";
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold = RANK.warn;
let sink: (line: string) => void = (line) => {
  console.error(line);
}; // console exists in every runtime
const REPEAT_WINDOW_MS = 1000;
const recent = new Map<string, { at: number; suppressed: number }>();

/** Sets the level (Config.logLevel, from LOG_LEVEL); a test may also redirect the lines. */
export function configureLog(level: Level, out?: (line: string) => void) {
  threshold = RANK[level];
  if (out) sink = out;
}

/** Logs `event` (a stable name, also the key for repeat suppression) with fields. */
export function log(level: Level, event: string, fields: Record<string, unknown> = {}) {
  if (RANK[level] < threshold) return;
  const now = Date.now();
  const r = recent.get(event);
  if (r && now - r.at < REPEAT_WINDOW_MS) {
    r.suppressed++;
    return;
  }
  const suppressed = r?.suppressed ?? 0;
  recent.set(event, { at: now, suppressed: 0 });
  if (recent.size > 1000) recent.clear(); // event names are a small fixed set; this only bounds a bug
  sink(
    JSON.stringify({ t: new Date(now).toISOString(), level, event, ...fields, ...(suppressed ? { suppressed } : {}) }),
  );
}

/** A ledger record that came after its bucket was folded: counting it could count a payment twice, so it is not. */
export function tooOld(e: { correlationId: string; processor: string; requestedAt: number }) {
  log("error", "ledger_entry_older_than_retention", {
    correlationId: e.correlationId,
    processor: e.processor,
    requestedAt: e.requestedAt,
    hint: "not counted in our summary; raise LEDGER_RETENTION_MS above the longest store outage",
  });
}
