import type { NodeStore, PaymentJob } from "../../../handlers/contract/types";
import { createMemoryAttempts } from "./attempts";
import { createMemoryHealth } from "./health";
import { createMemoryLedger } from "./ledger";
import { createMemoryQueue } from "./queue";

/** The embedded default: everything in this process. State dies with the process. */
export function createMemoryStore(): NodeStore {
  const queue = createMemoryQueue<PaymentJob>();
  const ledger = createMemoryLedger();
  const attempts = createMemoryAttempts();
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
    async close() {},
  };
}
