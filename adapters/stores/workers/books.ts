import { DurableObject } from "cloudflare:workers";
import {
  type AttemptClaim,
  applyObservation,
  checkLedgerEntry,
  emptyHealth,
  type HealthState,
  type LedgerEntry,
  type Observation,
  type PollResult,
  type ProcessorHealth,
  type ProcessorName,
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
  purgeLedger(): void;

  getClaim(correlationId: string): AttemptClaim | null;
  claim(correlationId: string, processor: ProcessorName, owner: string): AttemptClaim;
  release(correlationId: string, owner: string): boolean;
  purgeAttempts(): void;

  readHealth(): HealthState;
  writePoll(processor: ProcessorName, poll: PollResult): void;
  observe(processor: ProcessorName, observation: Observation): void;
  tryLock(processor: ProcessorName, ttlMs: number, owner: string): boolean;
  purgeHealth(): void;

  purgeAll(): void;
}

// Storage layout (one SQLite database per object; the app uses BOOKS_SHARDS objects, see store.ts):
//   ledger   one row per recorded payment; the primary key makes record() idempotent by correlationId,
//            the covering index answers a summary window with one range scan and no table lookups.
//   attempts one row per claimed correlationId.
//   health   one row per processor: the ProcessorHealth record as JSON.
//   locks    one row per polling lock: expiry (epoch ms) and holder.
const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS ledger (
     correlation_id TEXT PRIMARY KEY, processor TEXT NOT NULL,
     requested_at INTEGER NOT NULL, amount_cents INTEGER NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS ledger_by_time ON ledger (requested_at, processor, amount_cents)`,
  `CREATE TABLE IF NOT EXISTS attempts (correlation_id TEXT PRIMARY KEY, processor TEXT NOT NULL, owner TEXT NOT NULL)`,
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

  record(e: LedgerEntry): boolean {
    checkLedgerEntry(e);
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
    const rows = this.sql.exec<{ processor: string; n: number; cents: number }>(
      "SELECT processor, COUNT(*) AS n, SUM(amount_cents) AS cents FROM ledger WHERE requested_at BETWEEN ? AND ? " +
        "GROUP BY processor",
      from ?? Number.MIN_SAFE_INTEGER,
      to ?? Number.MAX_SAFE_INTEGER,
    );
    for (const r of rows) out[processor(r.processor)] = { totalRequests: r.n, totalCents: r.cents };
    return out;
  }

  purgeLedger(): void {
    this.sql.exec("DELETE FROM ledger");
  }

  // ---- attempt registry

  getClaim(correlationId: string): AttemptClaim | null {
    const rows = this.sql
      .exec<{ processor: ProcessorName; owner: string }>(
        "SELECT processor, owner FROM attempts WHERE correlation_id = ?",
        String(correlationId),
      )
      .toArray();
    return rows[0] ? { processor: rows[0].processor, owner: rows[0].owner } : null;
  }

  claim(correlationId: string, p: ProcessorName, owner: string): AttemptClaim {
    this.sql.exec(
      "INSERT INTO attempts VALUES (?, ?, ?) ON CONFLICT (correlation_id) DO NOTHING",
      String(correlationId),
      processor(p),
      String(owner),
    );
    return this.getClaim(correlationId)!;
  }

  release(correlationId: string, owner: string): boolean {
    return (
      this.sql
        .exec(
          "DELETE FROM attempts WHERE correlation_id = ? AND owner = ? RETURNING 1",
          String(correlationId),
          String(owner),
        )
        .toArray().length === 1
    );
  }

  purgeAttempts(): void {
    this.sql.exec("DELETE FROM attempts");
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
