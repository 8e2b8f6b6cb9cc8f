// The few Cloudflare runtime types this adapter touches, declared here because @cloudflare/workers-types
// is not a dependency. They follow the platform's shapes (developers.cloudflare.com/workers/runtime-apis),
// trimmed to what we call.

// ---- Queues -----------------------------------------------------------------------------------

export type QueueContentType = "json" | "text" | "bytes" | "v8";

export interface QueueSendOptions {
  contentType?: QueueContentType;
  /** Whole seconds, 0..43200. */
  delaySeconds?: number;
}

/** A producer binding. */
export interface Queue<Body = unknown> {
  send(body: Body, options?: QueueSendOptions): Promise<void>;
}

export interface CfRetryOptions {
  /** Whole seconds, 0..43200. */
  delaySeconds?: number;
}

export interface Message<Body = unknown> {
  readonly id: string;
  readonly timestamp: Date;
  readonly body: Body;
  /** 1 on the first delivery. */
  readonly attempts: number;
  ack(): void;
  retry(options?: CfRetryOptions): void;
}

export interface CfMessageBatch<Body = unknown> {
  readonly queue: string;
  readonly messages: readonly Message<Body>[];
  ackAll(): void;
  retryAll(options?: CfRetryOptions): void;
}

// ---- Durable Objects --------------------------------------------------------------------------

export interface DurableObjectId {
  toString(): string;
}

/** RPC stub: every public method of the object, called remotely, answers a Promise. */
export type DurableObjectStub<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

export interface DurableObjectNamespace<T = unknown> {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): DurableObjectStub<T>;
}

export type SqlValue = string | number | null | ArrayBuffer;

export interface SqlCursor<Row> extends Iterable<Row> {
  toArray(): Row[];
  one(): Row;
  readonly rowsRead: number;
  readonly rowsWritten: number;
}

export interface SqlStorage {
  exec<Row = Record<string, SqlValue>>(query: string, ...bindings: SqlValue[]): SqlCursor<Row>;
}

export interface DurableObjectStorage {
  readonly sql: SqlStorage;
  transactionSync<T>(fn: () => T): T;
  /** Epoch ms of the object's alarm, or null when none is set. */
  getAlarm(): Promise<number | null>;
  /** Sets (replaces) the one alarm of the object: its `alarm()` runs then. */
  setAlarm(scheduledTime: number | Date): Promise<void>;
}

export interface DurableObjectState {
  readonly id: DurableObjectId;
  readonly storage: DurableObjectStorage;
  blockConcurrencyWhile<T>(fn: () => Promise<T>): Promise<T>;
  waitUntil(promise: Promise<unknown>): void;
}

// ---- Handlers ---------------------------------------------------------------------------------

export interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
}

export interface ScheduledController {
  readonly scheduledTime: number;
  readonly cron: string;
  noRetry(): void;
}
