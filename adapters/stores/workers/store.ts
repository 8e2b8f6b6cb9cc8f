import { KEEP_FOREVER, type PaymentJob, type Retention, type Store } from "../../../handlers/contract/types";
import type { DurableObjectNamespace, DurableObjectStub, Queue } from "./bindings";
import type { BooksApi } from "./books";
import { type Envelope, queueProducer } from "./queue";

/** The name of the one Books object the app uses. */
export const BOOKS_NAME = "books";

export interface WorkersStoreOptions {
  /** Durable Object namespace binding of the Books class. */
  books: DurableObjectNamespace<BooksApi>;
  /** Producer binding of the payments queue. */
  queue: Queue<Envelope<PaymentJob>>;
  /** Which Books object holds the state (default "books"; tests use one per store). */
  name?: string;
  /** Claim window and ledger retention; default: keep everything. */
  retention?: Retention;
}

/**
 * The Cloudflare-native store: the queue is a Cloudflare Queue (the runtime drives the `queue` export, so
 * it is a producer only), and ledger, attempts, health and locks live in one Books Durable Object, reached
 * over RPC. Nothing shared lives in the isolate.
 *
 * Purge wipes the Books object; it cannot drop messages already on the Queue (a binding has no purge), so
 * a payment queued before a purge is still forwarded and recorded after it.
 */
export function createWorkersStore(o: WorkersStoreOptions): Store {
  const id = o.books.idFromName(o.name ?? BOOKS_NAME);
  // A stub is an I/O object of the request that made it; a fresh one per call is cheap and always valid.
  const books = (): DurableObjectStub<BooksApi> => o.books.get(id);
  const retention = o.retention ?? KEEP_FOREVER;
  // RPC carries no Infinity: "for ever" is sent as no window.
  const windowMs = Number.isFinite(retention.idempotencyWindowMs) ? retention.idempotencyWindowMs : undefined;
  return {
    name: "workers",
    queue: queueProducer<PaymentJob>(o.queue),
    ledger: {
      record: (e) => books().record(e),
      summary: (from, to) => books().summary(from, to),
      lookup: (cid) => books().lookup(cid),
      purge: () => books().purgeLedger(),
    },
    attempts: {
      get: (cid) => books().getClaim(cid),
      claim: (cid, p, owner) => books().claim(cid, p, owner, windowMs),
      release: (cid, owner) => books().release(cid, owner),
      purge: () => books().purgeAttempts(),
    },
    health: {
      read: () => books().readHealth(),
      writePoll: (p, poll) => books().writePoll(p, poll),
      observe: (p, obs) => books().observe(p, obs),
      tryLock: (p, ttlMs, owner) => books().tryLock(p, ttlMs, owner),
      purge: () => books().purgeHealth(),
    },
    purge: () => books().purgeAll(),
    compact: () => books().compact(retention),
    async close() {},
  };
}
