// The contest's scoring, as pure functions (docs/contest.md "Scoring"; checked against the official
// results files: see test/contest-score.test.ts).
import { add, type Dec, dec, mul, ONE, percent, round, toNumber } from "./money";

/** k6's percentile (its Trend sink): linear interpolation at rank p*(n-1) over sorted samples. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  if (n === 1) return sorted[0]!;
  const i = p * (n - 1);
  const lo = sorted[Math.floor(i)]!;
  const hi = sorted[Math.ceil(i)]!;
  return lo + (hi - lo) * (i - Math.floor(i));
}

/** round2 half-up of the number's decimal form (what big.js `.round(2)` does). */
export function round2(x: number): number {
  return toNumber(round(dec(x), 2));
}

/**
 * Bonus in integer percent: max(round2((11 - p99) * 0.02), 0) with p99 already round2'ed.
 * Done on integers: with h = p99 in hundredths of ms, (11 - p99) * 0.02 = (1100 - h) / 5000,
 * i.e. (1100 - h) / 50 percent, rounded half-up.
 */
export function bonusPercent(p99ms: number): number {
  const h = Number(round(dec(p99ms), 2) / 1_000_000n); // hundredths of ms, exact
  const pctX100 = (1100 - h) * 2; // the percent, times 100
  const pct = Math.floor((pctX100 + 50) / 100); // half-up
  return Math.max(pct, 0);
}

export const FINE_PERCENT = 35;

/** The fine applies when the checker's counter ended above zero (the official `count > 0`). */
export function finePercent(inconsistencies: number): number {
  return inconsistencies > 0 ? FINE_PERCENT : 0;
}

/** Accepted POSTs minus payments counted; negative means "caixa dois" (disqualified). */
export function lagOf(accepted: number, counted: number): number {
  return accepted - counted;
}

export interface Summary {
  totalRequests: number;
  totalAmount: number;
}
export interface BackendSummary {
  default: Summary;
  fallback: Summary;
}

/** Final: |backend.default - default| + |backend.fallback - fallback| on totalRequests. */
export function inconsistencyFinal(b: BackendSummary, d: Summary, f: Summary): number {
  return Math.abs(b.default.totalRequests - d.totalRequests) + Math.abs(b.fallback.totalRequests - f.totalRequests);
}

/** Preview: the two signed differences summed (so +1 and -1 cancel out). */
export function inconsistencyPreview(b: BackendSummary, d: Summary, f: Summary): number {
  return b.default.totalRequests - d.totalRequests + (b.fallback.totalRequests - f.totalRequests);
}

export interface Counted {
  totalRequests: number;
  totalAmount: number;
  feePerTransaction: number;
}
export interface ScoreInput {
  accepted: number;
  failed: number;
  default: Counted;
  fallback: Counted;
  p99ms: number; // raw, unrounded
  inconsistencies: number;
}

export interface ProcessorMoney {
  num_pagamentos: number;
  total_bruto: number;
  total_taxas: number;
  total_liquido: number;
}
export interface Score {
  p99: number; // round2'ed ms
  bonusPct: number;
  finePct: number;
  paid: number;
  fees: number;
  liquidPartial: number; // paid - fees
  bonusAmount: number;
  fineAmount: number;
  score: number; // the official total_liquido
  counted: number;
  lag: number;
  disqualified: boolean;
  default: ProcessorMoney;
  fallback: ProcessorMoney;
}

function processorMoney(c: Counted): { gross: Dec; fee: Dec; out: ProcessorMoney } {
  const gross = dec(c.totalAmount);
  const fee = mul(dec(c.feePerTransaction), gross);
  const out = {
    num_pagamentos: c.totalRequests,
    total_bruto: toNumber(gross),
    total_taxas: toNumber(fee),
    total_liquido: toNumber(gross - fee),
  };
  return { gross, fee, out };
}

/** score = liquid * (1 + bonus - fine), liquid = paid - fees, all exact. */
export function scoreOf(i: ScoreInput): Score {
  const d = processorMoney(i.default);
  const f = processorMoney(i.fallback);
  const paid = add(d.gross, f.gross);
  const fees = add(d.fee, f.fee);
  const liquid = paid - fees;
  const p99 = round2(i.p99ms);
  const bonusPct = bonusPercent(p99);
  const finePct = finePercent(i.inconsistencies);
  const bonusAmount = mul(liquid, percent(bonusPct));
  const fineAmount = mul(liquid, percent(finePct));
  const counted = i.default.totalRequests + i.fallback.totalRequests;
  const lag = lagOf(i.accepted, counted);
  return {
    p99,
    bonusPct,
    finePct,
    paid: toNumber(paid),
    fees: toNumber(fees),
    liquidPartial: toNumber(liquid),
    bonusAmount: toNumber(bonusAmount),
    fineAmount: toNumber(fineAmount),
    score: toNumber(liquid + bonusAmount - fineAmount),
    counted,
    lag,
    disqualified: lag < 0,
    default: d.out,
    fallback: f.out,
  };
}

/** The best possible score for this load: every accepted payment on the cheapest fee at a 20% bonus. */
export function ceilingOf(accepted: number, amount: number, fees: number[]): number {
  const gross = mul(dec(amount), BigInt(accepted) * ONE);
  const fee = mul(gross, dec(Math.min(...fees)));
  return toNumber(mul(gross - fee, ONE + percent(20)));
}
