import { PROCESSORS, type Summary } from "../../../handlers/contract/types";

/**
 * The shard that holds a payment's claim and ledger entry: FNV-1a (32 bit) of the correlationId, modulo the
 * shard count. Fixed for a given count, so both writes of one payment meet in one object; a different count
 * moves payments, hence BOOKS_SHARDS changes only on an empty ledger.
 */
export function shardOf(correlationId: string, shards: number): number {
  if (!Number.isInteger(shards) || shards < 1) throw new Error(`shard count ${shards} is not a positive integer`);
  let h = 0x811c9dc5;
  for (let i = 0; i < correlationId.length; i++) {
    h ^= correlationId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}

/**
 * The Durable Object name of shard `i` of the books named `base`. Shard 0 keeps the bare name, so one
 * shard is exactly the unsharded layout, and it also holds processor health and polling locks.
 */
export function shardName(base: string, i: number): string {
  return i === 0 ? base : `${base}-${i}`;
}

/** The summary of the whole ledger from the summaries of its shards: counts and cents add up exactly. */
export function sumSummaries(parts: readonly Summary[]): Summary {
  const out: Summary = { default: { totalRequests: 0, totalCents: 0 }, fallback: { totalRequests: 0, totalCents: 0 } };
  for (const s of parts) {
    for (const p of PROCESSORS) {
      out[p].totalRequests += s[p].totalRequests;
      out[p].totalCents += s[p].totalCents;
    }
  }
  return out;
}
