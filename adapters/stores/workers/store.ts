import { KEEP_FOREVER, type PaymentJob, type Retention, type Store } from "../../../handlers/contract/types";
import type { DurableObjectNamespace, DurableObjectStub, Queue } from "./bindings";
import type { BooksApi } from "./books";
import { type Envelope, queueProducer } from "./queue";
import { shardName, shardOf, sumCompactions, sumSummaries } from "./shards";

/** The name of the Books objects the app uses (shard 0; the others are "books-1", ...). */
export const BOOKS_NAME = "books";

export interface WorkersStoreOptions {
  /** Durable Object namespace binding of the Books class. */
  books: DurableObjectNamespace<BooksApi>;
  /** Producer binding of the payments queue. */
  queue: Queue<Envelope<PaymentJob>>;
  /** Which Books objects hold the state (default "books"; tests use one set per store). */
  name?: string;
  /** How many Books objects share the claims and ledger (BOOKS_SHARDS; default 1). */
  shards?: number;
  /** Claim window and ledger retention, applied by every shard; default: keep everything. */
  retention?: Retention;
}

/**
 * The Cloudflare-native store: the queue is a Cloudflare Queue (the runtime drives the `queue` export, so
 * it is a producer only), and ledger, attempts, health and locks live in Books Durable Objects, reached
 * over RPC. Nothing shared lives in the isolate.
 *
 * Sharding: a payment's claim and ledger entry go to the shard shardOf(correlationId) picks, so each
 * per-payment guarantee stays inside one object, where every call is atomic. Health and locks are one
 * record for the deployment, in shard 0. The summary asks every shard and adds up; purge wipes every shard.
 * A summary taken while payments are recorded is a sum of per-shard snapshots, each exact at its moment.
 * Retention is per shard too: compact folds and expires in every shard, lookup asks the payment's shard.
 *
 * Purge cannot drop messages already on the Queue (a binding has no purge), so a payment queued before a
 * purge is still forwarded and recorded after it.
 */
export function createWorkersStore(o: WorkersStoreOptions): Store {
  const shards = o.shards ?? 1;
  shardOf("", shards); // rejects a bad count now, not on the first payment
  const base = o.name ?? BOOKS_NAME;
  const ids = Array.from({ length: shards }, (_, i) => o.books.idFromName(shardName(base, i)));
  // A stub is an I/O object of the request that made it; a fresh one per call is cheap and always valid.
  const shard = (i: number): DurableObjectStub<BooksApi> => o.books.get(ids[i]!);
  const of = (correlationId: string) => shard(shardOf(String(correlationId), shards));
  const all = <T>(call: (b: DurableObjectStub<BooksApi>) => Promise<T>) =>
    Promise.all(ids.map((_, i) => call(shard(i))));
  const health = () => shard(0);
  const retention = o.retention ?? KEEP_FOREVER;
  // RPC carries no Infinity: "for ever" is sent as no window.
  const windowMs = Number.isFinite(retention.idempotencyWindowMs) ? retention.idempotencyWindowMs : undefined;
  return {
    name: "workers",
    queue: queueProducer<PaymentJob>(o.queue),
    ledger: {
      record: (e) => of(e.correlationId).record(e),
      summary: async (from, to) => sumSummaries(await all((b) => b.summary(from, to))),
      lookup: (cid) => of(cid).lookup(cid),
      purge: async () => void (await all((b) => b.purgeLedger())),
    },
    attempts: {
      get: (cid) => of(cid).getClaim(cid),
      claim: (cid, p, owner) => of(cid).claim(cid, p, owner, windowMs),
      release: (cid, owner) => of(cid).release(cid, owner),
      purge: async () => void (await all((b) => b.purgeAttempts())),
    },
    health: {
      read: () => health().readHealth(),
      writePoll: (p, poll) => health().writePoll(p, poll),
      observe: (p, obs) => health().observe(p, obs),
      tryLock: (p, ttlMs, owner) => health().tryLock(p, ttlMs, owner),
      purge: () => health().purgeHealth(),
    },
    purge: async () => void (await all((b) => b.purgeAll())),
    compact: async () => {
      // One clock for every shard's horizon, so a summary edge near it folds alike in all of them.
      const at = Date.now();
      return sumCompactions(await all((b) => b.compact(retention, at)));
    },
    async close() {},
  };
}
