// The conformance suite against the embedded memory adapter, plus how many folded totals it keeps.
import { expect, it } from "vitest";
import { createMemoryStore } from "../adapters/stores/memory";
import type { MemoryLedger } from "../adapters/stores/memory/ledger";
import { LEDGER_BUCKET_MS as B } from "../handlers/contract/types";
import { testStore } from "./support/conformance/suite";

testStore("memory", async () => createMemoryStore(), { retained: async (r) => createMemoryStore(r) });

it("memory: a payment per 100 ms for 20 minutes folds into a few dozen coarse totals, the sum exact", async () => {
  const s = createMemoryStore({ idempotencyWindowMs: 60_000, ledgerRetentionMs: 1000, ledgerDetailMs: 1000 });
  const g = 4096 * B; // whole 409.6 s groups: the coarsest these 20 minutes get with a 1 s detail window
  const end = Math.floor((Date.now() - 60_000) / g) * g;
  const start = end - 3 * g;
  let cents = 0;
  for (let t = start; t < end; t += B) {
    cents += 1 + (t % 997);
    await s.ledger.record({
      correlationId: `c-${t}`,
      processor: "default",
      requestedAt: t + 7,
      amountCents: 1 + (t % 997),
    });
  }
  for (let more = true; more; ) more = (await s.compact()).more;
  expect((s.ledger as MemoryLedger).foldedTotals()).toBeLessThan(50); // 12,288 buckets before coarsening
  expect((await s.ledger.summary(start, end - 1)).default).toEqual({ totalRequests: 3 * 4096, totalCents: cents });
});
