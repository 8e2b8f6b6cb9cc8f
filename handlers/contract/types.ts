// The portable storage/queue contract. Handlers depend on these types only; every store
// (adapters/stores/memory, redis, workers) implements them and is checked by the one conformance suite
// (test/support/conformance/suite.ts).

export type ProcessorName = "default" | "fallback";
export const PROCESSORS: readonly ProcessorName[] = ["default", "fallback"];

/** What POST /payments enqueues. Small on purpose: it is written once per payment. */
export interface PaymentJob {
  /** Stable id of this accepted request; owns the attempt claim across retries and redeliveries. */
  jobId: string;
  correlationId: string;
  /** Amount in integer cents (money is never a float in our books). */
  amountCents: number;
  /** Epoch ms when the API accepted it (for waiting-time decisions, never sent as requestedAt). */
  receivedAt: number;
}

// ---------------------------------------------------------------------------------------------
// Queue: the shape of Cloudflare Queues' consumer contract, so the Workers adapter maps 1:1.

export interface RetryOptions {
  /** Delay before redelivery. Adapters may round up (Cloudflare: whole seconds). */
  delaySeconds?: number;
}

export interface QueueMessage<Body> {
  readonly id: string;
  readonly timestamp: Date;
  readonly body: Body;
  /** 1 on first delivery; counts every delivery including retries and crash redeliveries. */
  readonly attempts: number;
  /** Done with it: it is never delivered again. Call only after its effects are durable. */
  ack(): void;
  /** Deliver it again later (to any consumer). Never loses the message. */
  retry(options?: RetryOptions): void;
}

export interface MessageBatch<Body> {
  readonly queue: string;
  readonly messages: readonly QueueMessage<Body>[];
  ackAll(): void;
  retryAll(options?: RetryOptions): void;
}

/** A batch of `messages` whose ackAll and retryAll settle each message in turn (first call per message wins). */
export function messageBatch<Body>(queue: string, messages: readonly QueueMessage<Body>[]): MessageBatch<Body> {
  return {
    queue,
    messages,
    ackAll() {
      for (const m of messages) m.ack();
    },
    retryAll(options) {
      for (const m of messages) m.retry(options);
    },
  };
}

export type BatchHandler<Body> = (batch: MessageBatch<Body>) => Promise<void>;

export interface QueueProducer<Body> {
  /** Resolves only once the message is stored by the adapter; rejects when it cannot be. */
  send(body: Body): Promise<void>;
}

export interface ConsumeOptions {
  /** Most messages handed to one handler call. */
  batchSize: number;
  /** Most messages handed out and not yet acked or retried, across batches. */
  maxInFlight: number;
  /** How long an idle consumer waits for new messages before polling again (ms). */
  pollMs?: number;
}

export interface QueueDepth {
  /** Waiting to be delivered now. */
  ready: number;
  /** Delivered and not yet acked (in flight or held by a dead consumer). */
  pending: number;
  /** Waiting for their retry delay. */
  delayed: number;
}

export interface Consumer {
  /** Stops pulling, waits for handed-out batches to settle (or `timeoutMs`), releases resources. */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * A queue that a long-running process polls (memory, Redis Streams). On Workers the runtime drives the
 * `queue` export instead, so that adapter implements QueueProducer only.
 */
export interface PollableQueue<Body> extends QueueProducer<Body> {
  consume(handler: BatchHandler<Body>, options: ConsumeOptions): Consumer;
  depth(): Promise<QueueDepth>;
  /** Drops every message (purge). */
  clear(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Ledger: what each processor accepted, keyed by correlationId.

export interface LedgerEntry {
  correlationId: string;
  processor: ProcessorName;
  /** Epoch ms: exactly the requestedAt the processor stored. */
  requestedAt: number;
  amountCents: number;
}

/** Throws, naming the field, unless `e` is a ledger entry every adapter can store exactly. */
export function checkLedgerEntry(e: LedgerEntry): void {
  if (!PROCESSORS.includes(e.processor))
    throw new Error(`ledger.record: unknown processor ${JSON.stringify(e.processor)}; use "default" or "fallback"`);
  if (!Number.isSafeInteger(e.requestedAt) || e.requestedAt < 0) {
    throw new Error(`ledger.record: requestedAt must be epoch ms (a non-negative integer), got ${e.requestedAt}`);
  }
  if (!Number.isSafeInteger(e.amountCents) || e.amountCents < 0) {
    throw new Error(`ledger.record: amountCents must be a non-negative integer, got ${e.amountCents}`);
  }
  if (typeof e.correlationId !== "string" || e.correlationId.length === 0)
    throw new Error("ledger.record: empty correlationId");
}

export interface ProcessorTotals {
  totalRequests: number;
  totalCents: number;
}

export type Summary = Record<ProcessorName, ProcessorTotals>;

export interface Ledger {
  /**
   * Records a payment. Idempotent by correlationId: a second call for the same id changes nothing and
   * resolves false (the first entry stays, as at the processors). Rejects an entry checkLedgerEntry refuses.
   * Resolves false too, changing nothing, for an entry older than what compact already folded.
   */
  record(entry: LedgerEntry): Promise<boolean>;
  /** Totals over requestedAt in [from, to], both inclusive, ms precision; open ends when undefined. */
  summary(from?: number, to?: number): Promise<Summary>;
  /** The entry recorded for `correlationId`, or null: never recorded, or already folded (older than retention). */
  lookup(correlationId: string): Promise<LedgerEntry | null>;
  purge(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Attempt registry: which processor a correlationId may be at. A claim is never moved to the other
// processor while it exists; it is released only after a definite "not stored there".

export interface AttemptClaim {
  processor: ProcessorName;
  /** jobId of the queue message that owns the claim. */
  owner: string;
}

export interface AttemptRegistry {
  get(correlationId: string): Promise<AttemptClaim | null>;
  /**
   * Atomically claims the id for `processor` if nobody holds it. Returns the claim in force afterwards:
   * ours when we won, the existing one otherwise (never overwritten, even by the same owner).
   */
  claim(correlationId: string, processor: ProcessorName, owner: string): Promise<AttemptClaim>;
  /** Deletes the claim only if `owner` holds it. Resolves whether it did. */
  release(correlationId: string, owner: string): Promise<boolean>;
  purge(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Shared processor health: written by the tick (polls) and by consumers (observations).

export interface ProcessorHealth {
  /** From the last poll of /payments/service-health. */
  failing: boolean;
  minResponseTime: number;
  /** Epoch ms of that poll; 0 = never polled. */
  polledAt: number;
  /** Observations fed by consumers (epoch ms; 0 = never). */
  lastOkAt: number;
  lastErrorAt: number;
  /** Consecutive definite failures/timeouts seen since the last success. */
  errorStreak: number;
  /** Latency of the most recent successful payment (ms). */
  lastLatencyMs: number;
}

export type HealthState = Record<ProcessorName, ProcessorHealth>;

export interface PollResult {
  failing: boolean;
  minResponseTime: number;
  at: number;
}

export interface Observation {
  at: number;
  ok: boolean;
  /** For ok observations: how long the processor took. */
  latencyMs?: number;
}

export interface HealthStore {
  read(): Promise<HealthState>;
  writePoll(processor: ProcessorName, poll: PollResult): Promise<void>;
  observe(processor: ProcessorName, observation: Observation): Promise<void>;
  /**
   * Takes the polling lock for `processor` for `ttlMs` if nobody holds it (SET NX PX semantics), so
   * one instance polls per window. Resolves whether we got it. The lock is never released early.
   */
  tryLock(processor: ProcessorName, ttlMs: number, owner: string): Promise<boolean>;
  purge(): Promise<void>;
}

export function emptyHealth(): ProcessorHealth {
  return {
    failing: false,
    minResponseTime: 0,
    polledAt: 0,
    lastOkAt: 0,
    lastErrorAt: 0,
    errorStreak: 0,
    lastLatencyMs: 0,
  };
}

/** Pure merge used by every adapter so observations mean the same everywhere. */
export function applyObservation(h: ProcessorHealth, o: Observation): ProcessorHealth {
  if (o.ok) {
    return {
      ...h,
      lastOkAt: Math.max(h.lastOkAt, o.at),
      errorStreak: 0,
      lastLatencyMs: o.latencyMs ?? h.lastLatencyMs,
    };
  }
  return { ...h, lastErrorAt: Math.max(h.lastErrorAt, o.at), errorStreak: h.errorStreak + 1 };
}

// ---------------------------------------------------------------------------------------------
// Retention: the state is bounded by time, not by payment count (docs/guarantees.md, "Retention").

export interface Retention {
  /** An attempt claim is kept this long after it is taken; a repeat of the correlationId after it is new. */
  idempotencyWindowMs: number;
  /**
   * A ledger entry is kept exactly this long (by requestedAt); older ones fold into per-bucket totals
   * (count + cents per processor), so old windows stay exact at the bucket's resolution (LEDGER_BUCKET_MS).
   */
  ledgerRetentionMs: number;
  /**
   * Folded totals stay per bucket this long past the retention, then grow 16x coarser for each further 16x of
   * age (coarsen.ts), so their number stays bounded. Absent or Infinity: per bucket for ever.
   */
  ledgerDetailMs?: number;
}

/**
 * Width of the buckets old ledger entries fold into: a folded payment counts in a window iff its bucket's start
 * lies in the window.
 */
export const LEDGER_BUCKET_MS = 100;

/** No expiry: what a store does when it is given no Retention (tests and tools that load fixed histories). */
export const KEEP_FOREVER: Retention = { idempotencyWindowMs: Infinity, ledgerRetentionMs: Infinity };

/** What one compaction did. */
export interface Compaction {
  /** Ledger entries folded into bucket totals. */
  folded: number;
  /** Attempt claims dropped because their window ended (stores whose claims expire by themselves report 0). */
  expiredClaims: number;
  /** True when it stopped at its batch limit: call again for the rest. */
  more: boolean;
  /** Records this store instance refused since the last compact because they were older than the horizon. */
  refusedOld: number;
}

// ---------------------------------------------------------------------------------------------
// Everything a runtime hands the handlers.

export interface Store {
  readonly name: string;
  readonly queue: QueueProducer<PaymentJob>;
  readonly ledger: Ledger;
  readonly attempts: AttemptRegistry;
  readonly health: HealthStore;
  /** Wipes ledger, attempts, health and (where the adapter can) queued messages. */
  purge(): Promise<void>;
  /**
   * Applies the store's Retention once, on at most a batch of entries: folds ledger entries older than the
   * retention into bucket totals and drops expired claims. From then on a record older than the folded
   * horizon is refused (resolves false: it cannot be told from one already folded). Run from the tick.
   */
  compact(): Promise<Compaction>;
  close(): Promise<void>;
}

/** A store whose queue a Node process polls. */
export interface NodeStore extends Store {
  readonly queue: PollableQueue<PaymentJob>;
}
