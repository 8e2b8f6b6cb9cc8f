// Redis adapter: the production store shared by every API and worker process. One factory, one interface.

import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { KEEP_FOREVER, type NodeStore, type PaymentJob, type Retention } from "../../../handlers/contract/types";
import { deleteMatching, RedisAttempts } from "./attempts";
import { connect } from "./connect";
import { FlushClock } from "./flush-clock";
import { RedisHealth } from "./health";
import { dataKeys, GROUP, keysFor } from "./keys";
import { RedisLedger } from "./ledger";
import { RedisQueue } from "./queue";
import { loadScripts, WIPE } from "./scripts";

export interface RedisStoreOptions {
  /** `redis://host:port/db` or a unix socket path (`/run/redis.sock`, `unix:///run/redis.sock`). */
  url?: string;
  /** Prefix of every key; stores with different prefixes are fully isolated. Default "rinha:". */
  prefix?: string;
  /** Consumer name in the stream's group; default unique per process (host, pid, random). */
  consumerName?: string;
  /** A pending message idle this long (its consumer died) is given to another consumer. Default 5000 ms. */
  claimIdleMs?: number;
  /** Longest wait between checks for due retries. Default 100 ms. */
  promoteEveryMs?: number;
  /**
   * Ledger records and queue settles wait up to this long to leave in one call (flush-clock.ts); the consumer
   * also waits this long after a read that did not fill its batch, so reads carry several payments.
   * 0: flush every turn of the event loop. Default 5 ms.
   */
  batchMs?: number;
  /** Most entries per batched write call (chunks.ts). Default ENTRIES_PER_CALL. */
  entriesPerCall?: number;
  /** Claim window and ledger retention; default: keep everything. */
  retention?: Retention;
}

export interface RedisStore extends NodeStore {
  readonly ledger: RedisLedger;
  readonly prefix: string;
}

export async function createRedisStore(opts: RedisStoreOptions = {}): Promise<RedisStore> {
  const url = opts.url ?? "redis://127.0.0.1:6379";
  const prefix = opts.prefix ?? "rinha:";
  const claimIdleMs = opts.claimIdleMs ?? 5000;
  if (!(claimIdleMs > 0)) throw new Error(`createRedisStore: claimIdleMs must be > 0, got ${claimIdleMs}`);
  const k = keysFor(prefix);
  const clock = new FlushClock(opts.batchMs ?? 5, opts.entriesPerCall);
  // The one shared command connection: node-redis pipelines commands issued in the same tick on it.
  const conn = await connect(url, "commands");
  try {
    await loadScripts(conn);
    const queue = new RedisQueue<PaymentJob>({
      conn,
      url,
      k,
      consumerName: opts.consumerName ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`,
      claimIdleMs,
      promoteEveryMs: opts.promoteEveryMs ?? 100,
      clock,
    });
    await queue.ensureGroup();
    const retention = opts.retention ?? KEEP_FOREVER;
    const ledger = new RedisLedger(conn, k, clock, retention.ledgerRetentionMs, retention.ledgerDetailMs);
    return {
      name: "redis",
      prefix,
      queue,
      ledger,
      attempts: new RedisAttempts(conn, k, retention.idempotencyWindowMs),
      health: new RedisHealth(conn, k),
      /** One script: everything goes at once, and the group is back before any other command runs. */
      async purge() {
        await WIPE.run(conn, dataKeys(k), [GROUP]);
        await deleteMatching(conn, k.attemptPattern);
      },
      /** Claims expire by their TTL (Redis frees them itself), so only the ledger has work here. */
      async compact() {
        return { ...(await ledger.compact()), expiredClaims: 0 };
      },
      /** Stops this store's consumers (giving back what they hold), then closes the connection. */
      async close() {
        await queue.stopAll(2000);
        await conn.close();
      },
    };
  } catch (err) {
    await conn.close();
    throw err;
  }
}
