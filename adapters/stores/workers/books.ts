import { DurableObject } from "cloudflare:workers";
import { COARSE_LEVELS, COARSEN_FACTOR, coarseCuts, nextCuts, oldEdge } from "../../../handlers/contract/coarsen";
import { tooOld } from "../../../handlers/contract/log";
import {
  type AttemptClaim,
  applyObservation,
  LEDGER_BUCKET_MS as B,
  type Compaction,
  checkLedgerEntry,
  emptyHealth,
  type HealthState,
  type LedgerEntry,
  type Observation,
  type PollResult,
  type ProcessorHealth,
  type ProcessorName,
  type Retention,
  type Summary,
} from "../../../handlers/contract/types";
import type { DurableObjectState, SqlStorage } from "./bindings";

/**
 * What the Books object answers over RPC. Every method is synchronous inside the object: SQLite storage
 * calls are synchronous and a Durable Object runs one call at a time, so each method is atomic (no await =
 * no interleaving), and its writes are durable before the caller sees the answer (the output gate).
 */
export interface BooksApi {
  record(entry: LedgerEntry): boolean;
  summary(from?: number, to?: number): Summary;
  lookup(correlationId: string): LedgerEntry | null;
  purgeLedger(): void;

  getClaim(correlationId: string): AttemptClaim | null;
  /** `windowMs`: how long the claim lasts (the idempotency window; omitted: for ever). */
  claim(correlationId: string, processor: ProcessorName, owner: string, windowMs?: number): AttemptClaim;
  release(correlationId: string, owner: string): boolean;
  purgeAttempts(): void;

  readHealth(): HealthState;
  writePoll(processor: ProcessorName, poll: PollResult): void;
  observe(processor: ProcessorName, observation: Observation): void;
  tryLock(processor: ProcessorName, ttlMs: number, owner: string): boolean;
  purgeHealth(): void;

  purgeAll(): void;
  /**
   * Folds ledger rows older than the retention into bucket rows and deletes expired claims. `at`: the time the
   * horizon is taken from (default now; the store gives all its shards one, so they fold alike).
   */
  compact(retention: Retention, at?: number): Compaction;
}

// Storage layout (one SQLite database per object; the app uses BOOKS_SHARDS objects, see store.ts):
//   ledger   one row per recorded payment; the primary key makes record() idempotent by correlationId,
//            the covering index answers a summary window with one range scan and no table lookups.
//   ledger_buckets  per processor and 100 ms bucket: count and cents of the rows folded out of `ledger`; old
//            ones merged into coarser groups (coarsen.ts), each keyed by its first bucket.
//   meta     the folding horizon (epoch ms; a record older than it is refused) and the coarsening cuts
//            (`coarse:k`: buckets below it are merged into groups of 16^k).
//   claims   one row per claimed correlationId, with its expiry (epoch ms).
//   health   one row per processor: the ProcessorHealth record as JSON.
//   locks    one row per polling lock: expiry (epoch ms) and holder.
const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS ledger (
     correlation_id TEXT PRIMARY KEY, processor TEXT NOT NULL,
     requested_at INTEGER NOT NULL, amount_cents INTEGER NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS ledger_by_time ON ledger (requested_at, processor, amount_cents)`,
  `CREATE TABLE IF NOT EXISTS ledger_buckets (processor TEXT NOT NULL, bucket INTEGER NOT NULL,
     n INTEGER NOT NULL, cents INTEGER NOT NULL, PRIMARY KEY (processor, bucket))`,
  `CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS claims (correlation_id TEXT PRIMARY KEY, processor TEXT NOT NULL, owner TEXT NOT NULL,
     until INTEGER NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS claims_by_until ON claims (until)`,
  `CREATE TABLE IF NOT EXISTS health (processor TEXT PRIMARY KEY, state TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS locks (name TEXT PRIMARY KEY, until INTEGER NOT NULL, owner TEXT NOT NULL)`,
];

function processor(p: unknown): ProcessorName {
  if (p !== "default" && p !== "fallback")
    throw new Error(`unknown processor ${String(p)}; use "default" or "fallback"`);
  return p;
}

/**
 * Ledger and attempt registry of one shard (the payments shardOf maps to it); processor health and polling locks
 * of the whole app in shard 0. All the shared state lives in these objects.
 */
export class Books extends DurableObject implements BooksApi {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    for (const s of SCHEMA) this.sql.exec(s);
  }

  // ---- ledger

  private refusedOld = 0;

  private horizon(): number {
    const r = this.sql.exec<{ value: number }>("SELECT value FROM meta WHERE name = 'horizon'").toArray()[0];
    return r ? r.value : Number.MIN_SAFE_INTEGER;
  }

  record(e: LedgerEntry): boolean {
    checkLedgerEntry(e);
    if (e.requestedAt < this.horizon()) {
      this.refusedOld++;
      tooOld(e);
      return false;
    }
    const inserted = this.sql
      .exec(
        "INSERT INTO ledger VALUES (?, ?, ?, ?) ON CONFLICT (correlation_id) DO NOTHING RETURNING 1",
        e.correlationId,
        e.processor,
        e.requestedAt,
        e.amountCents,
      )
      .toArray();
    return inserted.length === 1;
  }

  summary(from?: number, to?: number): Summary {
    const out: Summary = {
      default: { totalRequests: 0, totalCents: 0 },
      fallback: { totalRequests: 0, totalCents: 0 },
    };
    // [from, to] == (lo, hi] on whole ms. An edge older than the horizon moves to the end of its bucket or group,
    // the rule of every store: a folded payment counts iff its group's start is in the window.
    const horizon = this.horizon();
    const cuts = this.cuts();
    const edge = (t: number) => (t < horizon ? oldEdge(t, cuts) : t);
    const lo = edge(from === undefined ? Number.MIN_SAFE_INTEGER : Math.ceil(from) - 1);
    const hi = edge(to === undefined ? Number.MAX_SAFE_INTEGER : Math.floor(to));
    if (hi <= lo) return out;
    const rows = this.sql.exec<{ processor: string; n: number; cents: number }>(
      "SELECT processor, SUM(n) AS n, SUM(cents) AS cents FROM (" +
        "SELECT processor, COUNT(*) AS n, SUM(amount_cents) AS cents FROM ledger " +
        "WHERE requested_at > ? AND requested_at <= ? GROUP BY processor UNION ALL " +
        "SELECT processor, SUM(n), SUM(cents) FROM ledger_buckets WHERE bucket > ? AND bucket <= ? GROUP BY processor" +
        ") GROUP BY processor",
      lo,
      hi,
      Math.floor(lo / B),
      Math.floor(hi / B),
    );
    for (const r of rows) out[processor(r.processor)] = { totalRequests: r.n, totalCents: r.cents };
    return out;
  }

  lookup(correlationId: string): LedgerEntry | null {
    const r = this.sql
      .exec<{ processor: string; requested_at: number; amount_cents: number }>(
        "SELECT processor, requested_at, amount_cents FROM ledger WHERE correlation_id = ?",
        String(correlationId),
      )
      .toArray()[0];
    return r
      ? {
          correlationId: String(correlationId),
          processor: processor(r.processor),
          requestedAt: r.requested_at,
          amountCents: r.amount_cents,
        }
      : null;
  }

  purgeLedger(): void {
    this.sql.exec("DELETE FROM ledger");
    this.sql.exec("DELETE FROM ledger_buckets");
    this.sql.exec("DELETE FROM meta");
  }

  compact(retention: Retention, at?: number): Compaction {
    const now = Date.now();
    const refusedOld = this.refusedOld;
    this.refusedOld = 0;
    const expiredClaims = this.sql.exec("DELETE FROM claims WHERE until <= ? RETURNING 1", now).toArray().length;
    if (!Number.isFinite(retention.ledgerRetentionMs)) return { folded: 0, expiredClaims, more: false, refusedOld };
    const h = Math.max(this.horizon(), Math.floor(((at ?? now) - retention.ledgerRetentionMs) / B) * B);
    this.sql.exec("INSERT OR REPLACE INTO meta VALUES ('horizon', ?)", h);
    // A bound JS number may arrive as a REAL: the CAST truncates, which is the floor for non-negative times.
    this.sql.exec(
      "INSERT INTO ledger_buckets SELECT processor, CAST(requested_at / ? AS INTEGER) AS b, COUNT(*), " +
        "SUM(amount_cents) FROM ledger " +
        "WHERE requested_at < ? GROUP BY processor, b " +
        "ON CONFLICT (processor, bucket) DO UPDATE SET n = n + excluded.n, cents = cents + excluded.cents",
      B,
      h,
    );
    const folded = this.sql.exec("DELETE FROM ledger WHERE requested_at < ? RETURNING 1", h).toArray().length;
    this.coarsen(coarseCuts(h, retention.ledgerDetailMs));
    return { folded, expiredClaims, more: false, refusedOld };
  }

  private cuts(): number[] {
    const held = new Array<number>(COARSE_LEVELS).fill(0);
    for (const r of this.sql.exec<{ name: string; value: number }>(
      "SELECT name, value FROM meta WHERE name LIKE 'coarse:%'",
    ))
      held[Number(r.name.slice(7)) - 1] = r.value;
    return held;
  }

  /** Merges the bucket rows between each held cut and its new one into rows per group of 16^k buckets. */
  private coarsen(wanted: readonly number[]) {
    const held = this.cuts();
    const next = nextCuts(held, wanted);
    for (let k = 1; k <= COARSE_LEVELS; k++) {
      const [from, to] = [held[k - 1]!, next[k - 1]!];
      if (to <= from) continue;
      const range = "FROM ledger_buckets WHERE bucket >= CAST(? AS INTEGER) AND bucket < CAST(? AS INTEGER)";
      const g = COARSEN_FACTOR ** k;
      const groups = this.sql
        .exec<{ processor: string; b: number; n: number; cents: number }>(
          `SELECT processor, (bucket / CAST(? AS INTEGER)) * CAST(? AS INTEGER) AS b, SUM(n) AS n, ` +
            `SUM(cents) AS cents ${range} GROUP BY processor, b`,
          g,
          g,
          from,
          to,
        )
        .toArray();
      this.sql.exec(`DELETE ${range}`, from, to);
      for (const r of groups)
        this.sql.exec("INSERT INTO ledger_buckets VALUES (?, ?, ?, ?)", r.processor, r.b, r.n, r.cents);
      this.sql.exec("INSERT OR REPLACE INTO meta VALUES (?, ?)", `coarse:${k}`, to);
    }
  }

  // ---- attempt registry

  getClaim(correlationId: string): AttemptClaim | null {
    const rows = this.sql
      .exec<{ processor: ProcessorName; owner: string }>(
        "SELECT processor, owner FROM claims WHERE correlation_id = ? AND until > ?",
        String(correlationId),
        Date.now(),
      )
      .toArray();
    return rows[0] ? { processor: rows[0].processor, owner: rows[0].owner } : null;
  }

  claim(correlationId: string, p: ProcessorName, owner: string, windowMs?: number): AttemptClaim {
    const now = Date.now();
    const until = windowMs === undefined || !Number.isFinite(windowMs) ? Number.MAX_SAFE_INTEGER : now + windowMs;
    // An expired claim is replaced as if absent.
    this.sql.exec(
      "INSERT INTO claims VALUES (?, ?, ?, ?) ON CONFLICT (correlation_id) DO UPDATE SET " +
        "processor = excluded.processor, owner = excluded.owner, until = excluded.until WHERE claims.until <= ?",
      String(correlationId),
      processor(p),
      String(owner),
      until,
      now,
    );
    return this.getClaim(correlationId)!;
  }

  release(correlationId: string, owner: string): boolean {
    return (
      this.sql
        .exec(
          "DELETE FROM claims WHERE correlation_id = ? AND owner = ? AND until > ? RETURNING 1",
          String(correlationId),
          String(owner),
          Date.now(),
        )
        .toArray().length === 1
    );
  }

  purgeAttempts(): void {
    this.sql.exec("DELETE FROM claims");
  }

  // ---- health

  readHealth(): HealthState {
    const out: HealthState = { default: emptyHealth(), fallback: emptyHealth() };
    for (const r of this.sql.exec<{ processor: string; state: string }>("SELECT processor, state FROM health")) {
      out[processor(r.processor)] = { ...emptyHealth(), ...(JSON.parse(r.state) as ProcessorHealth) };
    }
    return out;
  }

  private writeHealth(p: ProcessorName, h: ProcessorHealth) {
    this.sql.exec("INSERT OR REPLACE INTO health VALUES (?, ?)", p, JSON.stringify(h));
  }

  writePoll(p: ProcessorName, poll: PollResult): void {
    const h = this.readHealth()[processor(p)];
    this.writeHealth(p, {
      ...h,
      failing: poll.failing === true,
      minResponseTime: Number(poll.minResponseTime),
      polledAt: Number(poll.at),
    });
  }

  observe(p: ProcessorName, o: Observation): void {
    this.writeHealth(p, applyObservation(this.readHealth()[processor(p)], o));
  }

  tryLock(p: ProcessorName, ttlMs: number, owner: string): boolean {
    const now = Date.now();
    const held = this.sql.exec<{ until: number }>("SELECT until FROM locks WHERE name = ?", processor(p)).toArray()[0];
    if (held && held.until > now) return false;
    this.sql.exec(
      "INSERT OR REPLACE INTO locks VALUES (?, ?, ?)",
      p,
      now + Math.max(0, Math.ceil(ttlMs)),
      String(owner),
    );
    return true;
  }

  purgeHealth(): void {
    this.sql.exec("DELETE FROM health");
    this.sql.exec("DELETE FROM locks");
  }

  purgeAll(): void {
    this.purgeLedger();
    this.purgeAttempts();
    this.purgeHealth();
  }
}
