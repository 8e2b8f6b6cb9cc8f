// Every key the adapter touches, derived from one prefix so that one Redis can host many isolated stores.
import type { ProcessorName } from "../../../handlers/contract/types";

export const GROUP = "workers";

export function keysFor(prefix: string) {
  const perProcessor = (name: string) => (p: ProcessorName) => `${prefix}${name}:${p}`;
  return {
    /** Stream of ready + delivered-but-unacked messages (acked ones are deleted). */
    stream: `${prefix}q`,
    /** Sorted set of retried messages by due time (ms). */
    delayed: `${prefix}q:delayed`,
    /** Entries that could not be parsed, kept for a human instead of looping forever. */
    dead: `${prefix}q:dead`,
    /** Hash of recorded correlationIds -> `processor:cents` (ledger idempotency, and lookups of one payment). */
    ledgerIds: `${prefix}l:ids`,
    /** Per processor: sorted set of `correlationId:cents` by requestedAt ms. */
    ledgerEntries: perProcessor("l:z"),
    /** Per processor: hash of cents per node of a 16-ary tree over 100 ms buckets (see scripts.ts). */
    ledgerCents: perProcessor("l:c"),
    /** Per processor: the same tree of counts, of the entries folded out of `ledgerEntries` by compaction. */
    ledgerCounts: perProcessor("l:n"),
    /** Epoch ms below which every entry is (being) folded; a record older than it is refused. */
    ledgerHorizon: `${prefix}l:horizon`,
    /** Hash of coarsening cuts, field l -> bucket index below which tree level l is dropped (coarsen.ts). */
    ledgerCoarse: `${prefix}l:coarse`,
    /** One string per claim, `processor|owner`, expiring with the idempotency window (see attempts.ts). */
    attempt: (correlationId: string) => `${prefix}att:${correlationId}`,
    /** What SCAN matches to find every claim (purge). */
    attemptPattern: `${prefix}att:*`,
    health: perProcessor("h"),
    healthLock: perProcessor("h:lock"),
  };
}

export type Keys = ReturnType<typeof keysFor>;

/**
 * Every fixed-name key purge wipes (all but the polling locks, which guard the processors' rate limit, not our
 * data); the per-claim keys are found with SCAN (attemptPattern).
 */
export function dataKeys(k: Keys): string[] {
  const procs: ProcessorName[] = ["default", "fallback"];
  return [
    k.stream,
    k.delayed,
    k.dead,
    k.ledgerIds,
    k.ledgerHorizon,
    k.ledgerCoarse,
    ...procs.flatMap((p) => [k.ledgerEntries(p), k.ledgerCents(p), k.ledgerCounts(p), k.health(p)]),
  ];
}
