// Folded ledger totals grow coarser with age, so a store that runs for years holds a bounded number of them
// (docs/guarantees.md, "Retention"). Every store applies the same cuts; these pure functions are the rule.
//
// Past the horizon, totals are per 100 ms bucket for LEDGER_DETAIL_MS; further back they are merged into
// groups 16x wider for each further 16x of age: with the 24 h default, 100 ms for a day, 1.6 s for 16 days,
// 25.6 s for 256 days, 6.8 min for 11 years. Each level then holds about LEDGER_DETAIL_MS / 100 ms totals.
import { LEDGER_BUCKET_MS as B } from "./types";

/** Each level merges this many groups of the one before it. */
export const COARSEN_FACTOR = 16;
/** Levels 1..9: groups of 16^k buckets (1.6 s ... 16^9 x 100 ms, about 218 years). */
export const COARSE_LEVELS = 9;

/**
 * The cuts a store should hold for a horizon (a bucket boundary, epoch ms): cuts[k - 1] is the bucket index below
 * which folded totals are merged into groups of 16^k buckets. Each is a multiple of its group, >= 0, and none is
 * above the one before it. `detailMs` undefined or Infinity: never coarser than one bucket (all zeros).
 */
export function coarseCuts(horizonMs: number, detailMs: number | undefined): number[] {
  const cuts: number[] = [];
  let above = Number.isFinite(horizonMs) ? Math.max(0, Math.floor(horizonMs / B)) : 0;
  for (let k = 1; k <= COARSE_LEVELS; k++) {
    const group = COARSEN_FACTOR ** k;
    let cut = 0;
    if (detailMs !== undefined && Number.isFinite(detailMs) && above > 0) {
      const from = Math.floor((horizonMs - detailMs * COARSEN_FACTOR ** (k - 1)) / B);
      cut = Math.max(0, Math.floor(Math.min(from, above) / group) * group);
    }
    cuts.push(cut);
    above = cut;
  }
  return cuts;
}

/**
 * The cuts to apply over those a store holds: a cut never moves back (what was merged stays merged), and none
 * goes above the finer one it will hold.
 */
export function nextCuts(held: readonly number[], wanted: readonly number[]): number[] {
  const out: number[] = [];
  let above = Infinity;
  for (let k = 1; k <= COARSE_LEVELS; k++) {
    const group = COARSEN_FACTOR ** k;
    const h = held[k - 1] ?? 0;
    const w = Math.floor(Math.min(wanted[k - 1] ?? 0, above) / group) * group;
    const cut = Math.max(h, w);
    out.push(cut);
    above = cut;
  }
  return out;
}

/** The width (in buckets) of the group that holds `bucket`'s total under these cuts: 1, 16, 256, ... */
export function groupAt(bucket: number, cuts: readonly number[]): number {
  for (let k = COARSE_LEVELS; k >= 1; k--) if (bucket < (cuts[k - 1] ?? 0)) return COARSEN_FACTOR ** k;
  return 1;
}

/**
 * Where a window edge older than the horizon acts: the last ms of its group, so a folded payment counts iff
 * its group's start lies in the window (with no cuts: its 100 ms bucket's start).
 */
export function oldEdge(t: number, cuts: readonly number[]): number {
  const b = Math.floor(t / B);
  const g = groupAt(b, cuts);
  return (Math.floor(b / g) * g + g) * B - 1;
}
