// The auditor: every ~10 s it compares the processors' rows with our summary over
// [now - auditFromMs, now - auditOffsetMs]. A row is "exposed" at a check moment when the processor
// already has it and our ledger does not yet: the books differ and the run is fined 35%.

export interface RowTimes {
  /** requestedAt we sent (ms) */
  r: number;
  /** when the processor inserted it */
  insertAt: number;
  /** when our ledger recorded it (Infinity: never, in the run) */
  recordAt: number;
}

export interface AuditOptions {
  offsetMs: number;
  fromMs: number;
  everyMs: number;
  /** checks happen during [0, endMs] */
  endMs: number;
  /**
   * How far apart the auditor's reads of the processors and of our backend can land (ms): the final sends
   * the three requests at once, the preview one after the other.
   */
  skewMs: number;
}

export interface Span {
  fromMs: number;
  toMs: number;
  rows: number;
}

export interface AuditResult {
  /** rows inserted more than offsetMs after their requestedAt */
  risky: number;
  /** rows with a non-empty exposure interval (risky ones, and late records of on-time inserts) */
  exposedRows: number;
  /** total length of the union of exposure intervals (ms) */
  exposedMs: number;
  /** share of the auditor's possible phases (uniform over everyMs) for which some check catches a row */
  pCaught: number;
  /** exposure intervals merged when closer than 1 s */
  spans: Span[];
}

/** The moments (a half-open interval) at which a check would see this row at the processor but not in our ledger. */
export function exposure(row: RowTimes, o: AuditOptions): [number, number] | null {
  const a = Math.max(row.r + o.offsetMs, row.insertAt - o.skewMs, 0);
  const b = Math.min(row.recordAt + o.skewMs, row.r + o.fromMs, o.endMs + 1);
  return b > a ? [a, b] : null;
}

export function audit(rows: readonly RowTimes[], o: AuditOptions): AuditResult {
  let risky = 0;
  const iv: [number, number][] = [];
  for (const row of rows) {
    if (row.insertAt - row.r > o.offsetMs) risky++;
    const e = exposure(row, o);
    if (e) iv.push(e);
  }
  iv.sort((x, y) => x[0] - y[0]);

  // Union, and the phases (t mod everyMs) it covers.
  const phase = new Uint8Array(o.everyMs);
  let covered = 0;
  let exposedMs = 0;
  let curA = -1,
    curB = -1;
  const flush = () => {
    if (curB <= curA) return;
    exposedMs += curB - curA;
    if (covered === o.everyMs) return;
    const from = Math.ceil(curA),
      to = Math.ceil(curB);
    for (let t = from; t < to && covered < o.everyMs; t++) {
      const k = t % o.everyMs;
      if (!phase[k]) {
        phase[k] = 1;
        covered++;
      }
    }
  };
  for (const [a, b] of iv) {
    if (a > curB) {
      flush();
      curA = a;
      curB = b;
    } else curB = Math.max(curB, b);
  }
  flush();

  const spans: Span[] = [];
  for (const [a, b] of iv) {
    const last = spans[spans.length - 1];
    if (last && a - last.toMs < 1000) {
      last.toMs = Math.max(last.toMs, b);
      last.rows++;
    } else spans.push({ fromMs: a, toMs: b, rows: 1 });
  }
  return { risky, exposedRows: iv.length, exposedMs, pCaught: covered / o.everyMs, spans };
}
