import { coarseCuts } from "../../../handlers/contract/coarsen";
import {
  KEEP_FOREVER,
  LEDGER_BUCKET_MS,
  type NodeStore,
  type PaymentJob,
  type Retention,
} from "../../../handlers/contract/types";
import { createMemoryAttempts } from "./attempts";
import { createMemoryHealth } from "./health";
import { createMemoryLedger } from "./ledger";
import { createMemoryQueue } from "./queue";

/** Most ledger entries one compact call folds (bounds the time it holds the event loop). */
const FOLD_BATCH = 5000;

/** The embedded default: everything in this process. State dies with the process. */
export function createMemoryStore(retention: Retention = KEEP_FOREVER): NodeStore {
  const queue = createMemoryQueue<PaymentJob>();
  const ledger = createMemoryLedger();
  const attempts = createMemoryAttempts(retention.idempotencyWindowMs);
  const health = createMemoryHealth();
  return {
    name: "memory",
    queue,
    ledger,
    attempts,
    health,
    async purge() {
      await Promise.all([queue.clear(), ledger.purge(), attempts.purge(), health.purge()]);
    },
    async compact() {
      const expiredClaims = attempts.expire();
      const refusedOld = ledger.takeRefused();
      if (!Number.isFinite(retention.ledgerRetentionMs)) return { folded: 0, expiredClaims, more: false, refusedOld };
      const horizon = Math.floor((Date.now() - retention.ledgerRetentionMs) / LEDGER_BUCKET_MS) * LEDGER_BUCKET_MS;
      const folded = ledger.fold(horizon, FOLD_BATCH);
      // Only once everything below the horizon is folded: a total folded after its group merged would stay apart.
      if (!folded.more) ledger.coarsen(coarseCuts(horizon, retention.ledgerDetailMs));
      return { ...folded, expiredClaims, refusedOld };
    },
    async close() {},
  };
}
