import type { PaymentJob, Store } from "../../../handlers/contract/types";
import type { DurableObjectNamespace, DurableObjectStub, Queue } from "./bindings";
import type { BooksApi } from "./books";
import { type Envelope, queueProducer } from "./queue";
import { shardName, shardOf, sumSummaries } from "./shards";

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
  return {
    name: "workers",
    queue: queueProducer<PaymentJob>(o.queue),
    ledger: {
      record: (e) => of(e.correlationId).record(e),
      summary: async (from, to) => sumSummaries(await all((b) => b.summary(from, to))),
      purge: async () => void (await all((b) => b.purgeLedger())),
    },
    attempts: {
      get: (cid) => of(cid).getClaim(cid),
      claim: (cid, p, owner) => of(cid).claim(cid, p, owner),
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
    async close() {},
  };
}
