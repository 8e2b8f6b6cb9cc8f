// Every environment variable the service reads, defined once (VARS), and the one reader (loadConfig) that
// validates them all alike and returns the typed Config the runtimes are built from. The rules, for every
// variable: empty means unset (the default applies); a bad value stops the start with one message naming the
// variable, the value given and what is allowed. docs/configuration.md is generated from VARS
// (`npm run docs:config`); a test fails when the committed table differs.
import type { Level } from "./log";
import type { ProcessorName, Retention } from "./types";

/** Who reads a variable: the Node runtime's API and worker parts (ROLE=all is both), or the Workers runtime. */
export type Use = "api" | "worker" | "workers";

interface Common {
  /** One line for the generated table. */
  meaning: string;
  uses: readonly Use[];
  /** For a variable without a default: what leaving it unset does, completing "unset it ...". */
  unset?: string;
}

export interface IntegerVar extends Common {
  kind: "integer";
  default?: number;
  min: number;
  max?: number;
  /** What the number counts ("milliseconds", "payments", ...). */
  unit?: string;
}

export interface NumberVar extends Common {
  kind: "number";
  default?: number;
  min: number;
  max?: number;
}

export interface UrlVar extends Common {
  kind: "url";
  default?: string;
  /** Allowed schemes, with the colon ("http:"). */
  protocols: readonly string[];
  /** An absolute path is accepted too (a unix socket). */
  path?: boolean;
}

export interface EnumVar extends Common {
  kind: "enum";
  default: string;
  values: readonly string[];
}

export interface StringVar extends Common {
  kind: "string";
  default?: string;
  pattern: RegExp;
  /** What `pattern` allows, in words. */
  allowed: string;
}

export interface PathVar extends Common {
  kind: "path";
  default?: string;
  /** Longest path in bytes (a unix socket path is at most 107 on Linux). */
  maxBytes: number;
}

export type VarDef = IntegerVar | NumberVar | UrlVar | EnumVar | StringVar | PathVar;
export type Kind = VarDef["kind"];

const NODE: readonly Use[] = ["api", "worker"];
const FORWARDING: readonly Use[] = ["worker", "workers"];

/** Every variable, in the order of the generated table. */
export const VARS = {
  ROLE: {
    kind: "enum",
    default: "all",
    values: ["all", "api", "worker"],
    meaning:
      "`api`: HTTP only; `worker`: queue consumer and health tick (serves `/healthz` and `/metrics` only); `all`: both",
    uses: NODE,
  },
  STORE: {
    kind: "enum",
    default: "memory",
    values: ["memory", "redis"],
    meaning: "`memory`: in this process (`ROLE=all` only); `redis`: shared by every process",
    uses: NODE,
  },
  PORT: {
    kind: "integer",
    default: 9999,
    min: 0,
    max: 65535,
    meaning: "TCP port to listen on (0: any free port); ignored when `SOCKET_PATH` is set",
    uses: NODE,
  },
  HOST: {
    kind: "string",
    default: "0.0.0.0",
    pattern: /^[A-Za-z0-9.:-]+$/,
    allowed: "a host name or IP address (letters, digits, `.`, `:`, `-`)",
    meaning: "address to listen on with `PORT`",
    uses: NODE,
  },
  SOCKET_PATH: {
    kind: "path",
    maxBytes: 107,
    unset: "to listen on PORT",
    meaning: "listen on this unix socket instead of `PORT` (mode 0666; a stale socket file is replaced)",
    uses: NODE,
  },
  REDIS_URL: {
    kind: "url",
    default: "redis://127.0.0.1:6379",
    protocols: ["redis:", "rediss:", "unix:"],
    path: true,
    meaning: "Redis over TCP, or a unix socket as `unix:///path/redis.sock` or `/path/redis.sock` (`STORE=redis`)",
    uses: NODE,
  },
  REDIS_PREFIX: {
    kind: "string",
    default: "rinha:",
    pattern: /^[A-Za-z0-9:_.-]+$/,
    allowed: "letters, digits and `:` `_` `.` `-`",
    meaning: "prefix of every Redis key; processes with different prefixes share nothing",
    uses: NODE,
  },
  REDIS_CLAIM_IDLE_MS: {
    kind: "integer",
    default: 5000,
    min: 1,
    unit: "milliseconds",
    meaning: "a dead worker's unacknowledged payments go to another worker after this",
    uses: ["worker"],
  },
  REDIS_BATCH_MS: {
    kind: "integer",
    default: 5,
    min: 0,
    max: 100,
    unit: "milliseconds",
    meaning:
      "the worker's ledger records and queue acks wait up to this long to leave in one Redis call, and it " +
      "pauses this long after a read that did not fill its batch (0: no wait)",
    uses: ["worker"],
  },
  REDIS_ENTRIES_PER_CALL: {
    kind: "integer",
    default: 32,
    min: 1,
    max: 100_000,
    unit: "entries",
    meaning:
      "the worker's batched Redis writes (ledger records, queue acks, retention folding, retry promotion) go as " +
      "calls of at most this many entries, one after another, so no call holds Redis long ahead of the POSTs' writes",
    uses: ["worker"],
  },
  IDEMPOTENCY_WINDOW_MS: {
    kind: "integer",
    // A payment API's usual window (a day); the contest profile in docker-compose.yml uses 2 minutes.
    default: 86_400_000,
    min: 1000,
    unit: "milliseconds",
    meaning: "an attempt claim (which processor a correlationId is at) is kept this long; a repeat after it is new",
    uses: FORWARDING,
  },
  LEDGER_RETENTION_MS: {
    kind: "integer",
    default: 86_400_000,
    min: 1000,
    unit: "milliseconds",
    meaning: "ledger entries older than this fold into per-100 ms totals (summaries there: exact per bucket)",
    uses: FORWARDING,
  },
  LEDGER_DETAIL_MS: {
    kind: "integer",
    default: 86_400_000,
    min: 1000,
    unit: "milliseconds",
    meaning:
      "folded totals stay per 100 ms this long past the retention, then 16x coarser per further 16x of age " +
      "(1.6 s, 25.6 s, ...): the number of totals stays bounded",
    uses: FORWARDING,
  },
  PROCESSOR_DEFAULT_URL: {
    kind: "url",
    default: "http://localhost:8001",
    protocols: ["http:", "https:"],
    meaning: "the default payment processor",
    uses: FORWARDING,
  },
  PROCESSOR_FALLBACK_URL: {
    kind: "url",
    default: "http://localhost:8002",
    protocols: ["http:", "https:"],
    meaning: "the fallback payment processor",
    uses: FORWARDING,
  },
  FEE_DEFAULT: {
    kind: "number",
    default: 0.05,
    min: 0,
    max: 1,
    meaning: "the default processor's fee, a fraction of the amount; only ranks the processors (final: 0.07)",
    uses: FORWARDING,
  },
  FEE_FALLBACK: {
    kind: "number",
    default: 0.15,
    min: 0,
    max: 1,
    meaning: "the fallback processor's fee (final: 0.10)",
    uses: FORWARDING,
  },
  PURGE_TOKEN: {
    kind: "string",
    pattern: /^[\x21-\x7e]+$/,
    allowed: "printable ASCII without spaces (it travels in a header)",
    unset: "to leave POST /purge-payments open",
    meaning:
      "`POST /purge-payments` needs the header `X-Purge-Token` with this value " +
      "(unset: open, as the contest's load test expects)",
    uses: ["api", "workers"],
  },
  MAX_IN_FLIGHT: {
    kind: "integer",
    default: 1500,
    min: 1,
    unit: "payments",
    meaning: "payments one worker forwards at once (a processor at 2,000 ms with 600 payments/s arriving needs ~1,200)",
    uses: ["worker"],
  },
  PAY_TIMEOUT_MS: {
    kind: "integer",
    default: 8000,
    min: 1,
    unit: "milliseconds",
    meaning: "client timeout of a payment request (the contest's slowest stage is 5,000 ms)",
    uses: FORWARDING,
  },
  LOOKUP_TIMEOUT_MS: {
    kind: "integer",
    default: 3000,
    min: 1,
    unit: "milliseconds",
    meaning: "client timeout of `GET /payments/{id}`, asked when a payment is in doubt",
    uses: FORWARDING,
  },
  UNSAFE_LATENCY_MS: {
    kind: "integer",
    default: 1200,
    min: 1,
    unit: "milliseconds",
    meaning: "a processor this slow is avoided: its rows would land after the auditor's window (docs/routing.md)",
    uses: FORWARDING,
  },
  OVERDUE_MARGIN_MS: {
    kind: "integer",
    // The simulator's family (random:1..40, no latency noise): 150 -> 100 ms takes P(fine) per run from 11.5%
    // to 11.0% and the final from 98.18% to 98.32%; 50 ms does better still there, but the margin must stay
    // above the real answer-time jitter, which the simulator does not have. With the scout after a change, a
    // false alarm costs a short wait, not a run of payments at the dearer fee.
    default: 100,
    min: 0,
    unit: "milliseconds",
    meaning: "a request waiting this long past the known latency marks the processor slow at once",
    uses: FORWARDING,
  },
  PROBE_INTERVAL_MS: {
    kind: "integer",
    default: 2000,
    min: 0,
    unit: "milliseconds",
    // Probes into a processor failing with a long delay all land once it recovers: space them out.
    meaning: "a failing processor gets one probe payment at most this often",
    uses: FORWARDING,
  },
  ERROR_COOLDOWN_MS: {
    kind: "integer",
    default: 2000,
    min: 0,
    unit: "milliseconds",
    meaning: "after a failed payment, the processor counts as failing this long unless one succeeds",
    uses: FORWARDING,
  },
  MAX_HOLD_MS: {
    kind: "integer",
    // A row sent to a slow processor is a late row: a few of them cover the auditor's phase, so this bet
    // fines the whole run (35%) to save the held payments. The simulator's family (docs/routing.md): over
    // random:1..40, 30 s gives P(fine) 11.0% per run, never 4.6% but loses whole runs in which nothing safe
    // comes back (random:18); over random:1..200, 60 s 4.6% and 90 s 3.8%, with the better mean.
    default: 90_000,
    min: 0,
    unit: "milliseconds",
    meaning: "after waiting this long, a payment goes to the faster of two slow-but-working processors",
    uses: FORWARDING,
  },
  FEE_HOLD_MS: {
    kind: "integer",
    // The simulator (npm run sim, seeds 1-5): preview 96.6% -> 99.9% of the ceiling with 20 s, final
    // 98.1% -> 98.3%; no contest scenario ends while the cheaper one fails, so no lag.
    default: 20_000,
    min: 0,
    unit: "milliseconds",
    meaning: "patience: while the cheaper processor fails, a younger payment waits for it (0: off)",
    uses: FORWARDING,
  },
  FORWARD_RATE: {
    kind: "integer",
    // Off: in interleaved k6 previews a paced drain (1000/s) gave a worse tail than an unpaced one (worst
    // second 24-516 ms vs 25-68 ms, docs/results.md): the stream ran into the rising load; the burst is over first.
    default: 0,
    min: 0,
    unit: "payments per second",
    meaning:
      "most payments one worker sends to the processors per second, so a released backlog drains as a stream, " +
      "not a burst (0: no limit)",
    uses: FORWARDING,
  },
  PROCESSOR_SLOTS: {
    kind: "integer",
    // The contest's processors run 800 at once and queue 500 (docs/contest.md); a queued request waits a
    // whole delay more, which is what made a released backlog land late at a safe delay (docs/routing.md).
    default: 800,
    min: 0,
    unit: "requests",
    meaning:
      "requests a processor serves at once; one worker keeps at most this many x " +
      "floor(UNSAFE_LATENCY_MS / latency) there (0: no limit)",
    uses: FORWARDING,
  },
  HOLD_HORIZON_MS: {
    kind: "integer",
    // The end of the run is unknown: a held payment is lost if it comes first. Holding pays when the fee
    // saved beats the chance of the end within the patience, so patience is capped at
    // horizon x (dearer fee - cheaper fee) / (1 - cheaper fee); see docs/routing.md "Schedule family".
    // 190 s keeps the preview's 20 s (gap 10%) and gives the final's fees (gap 3%) 6.1 s.
    default: 190_000,
    min: 0,
    unit: "milliseconds",
    meaning: "expected run left when holding for a failing cheaper processor; caps FEE_HOLD_MS (0: no cap)",
    uses: FORWARDING,
  },
  HOLD_WAIT_MS: {
    kind: "integer",
    // Held payments wait in the consumer, bounded by MAX_IN_FLIGHT (the rest stay unread in the queue, at no
    // cost); sending them back to the queue every second made thousands of store round trips per second.
    default: 10_000,
    min: 0,
    unit: "milliseconds",
    meaning: "longest a held payment waits inside the consumer before going back to the queue",
    uses: FORWARDING,
  },
  RETRY_BASE_MS: {
    kind: "integer",
    default: 50,
    min: 1,
    unit: "milliseconds",
    meaning: "first retry delay of a payment sent back to the queue; doubles per delivery, with jitter",
    uses: FORWARDING,
  },
  RETRY_MAX_MS: {
    kind: "integer",
    default: 2000,
    min: 1,
    unit: "milliseconds",
    meaning: "longest retry delay",
    uses: FORWARDING,
  },
  HEALTH_WINDOW_MS: {
    kind: "integer",
    default: 5100,
    min: 1,
    unit: "milliseconds",
    meaning: "one health poll per processor per window across all instances (a processor allows 1 per 5 s)",
    uses: FORWARDING,
  },
  HEALTH_TIMEOUT_MS: {
    kind: "integer",
    default: 2000,
    min: 1,
    unit: "milliseconds",
    meaning: "client timeout of a health poll",
    uses: FORWARDING,
  },
  TICK_MS: {
    kind: "integer",
    default: 1000,
    min: 1,
    unit: "milliseconds",
    meaning: "how often the health tick runs (on Workers: the local stand-in for the Cron Trigger)",
    uses: FORWARDING,
  },
  SHED_LAG_MS: {
    kind: "integer",
    default: 250,
    min: 0,
    unit: "milliseconds",
    meaning: "while the API's smoothed event-loop lag is above this, `POST /payments` answers 503 at once (0: off)",
    uses: ["api"],
  },
  MAX_PENDING_ACCEPTS: {
    kind: "integer",
    // A slow (not down) store would otherwise pile up waiting requests, and their memory, without bound.
    default: 2000,
    min: 0,
    unit: "requests",
    meaning: "while this many POSTs of one API wait for the queue, further POSTs answer 503 at once (0: off)",
    uses: ["api", "workers"],
  },
  WARMUP_REQUESTS: {
    kind: "integer",
    default: 3000,
    min: 0,
    unit: "requests",
    meaning: "synthetic requests an API serves itself before it listens, so the JIT has compiled the hot path (0: off)",
    uses: ["api"],
  },
  LOG_LEVEL: {
    kind: "enum",
    default: "warn",
    values: ["debug", "info", "warn", "error"],
    meaning: "JSON log lines on stderr at this level and above; repeats of one event within a second are summarised",
    uses: ["api", "worker", "workers"],
  },
  QUEUE_MAX_RETRIES: {
    kind: "integer",
    default: 3,
    min: 0,
    max: 100,
    meaning: "the Queue consumer's `max_retries` (Cloudflare's default 3): a retry past it is sent as a new message",
    uses: ["workers"],
  },
  BOOKS_SHARDS: {
    kind: "integer",
    default: 1,
    min: 1,
    max: 1024,
    unit: "Durable Objects",
    meaning: "`Books` objects the payments are spread over by correlationId (change it only on an empty ledger)",
    uses: ["workers"],
  },
} as const satisfies Record<string, VarDef>;

export type VarName = keyof typeof VARS;

type ValueOf<D> = D extends { kind: "enum"; values: readonly (infer V)[] }
  ? V
  : D extends { kind: "integer" | "number" }
    ? number
    : string;
/** The value of each variable: the default when unset, undefined for an unset variable without one. */
export type Vars = {
  [K in VarName]: (typeof VARS)[K] extends { default: unknown }
    ? ValueOf<(typeof VARS)[K]>
    : ValueOf<(typeof VARS)[K]> | undefined;
};

export type EnvLike = Record<string, string | undefined>;

/** What a variable accepts, in words: "a whole number of milliseconds >= 1". */
export function describeAllowed(d: VarDef): string {
  const range = (min: number, max?: number) => (max === undefined ? `>= ${min}` : `from ${min} to ${max}`);
  switch (d.kind) {
    case "integer":
      return `a whole number${d.unit ? ` of ${d.unit}` : ""} ${range(d.min, d.max)}`;
    case "number":
      return `a number ${range(d.min, d.max)}`;
    case "url": {
      const schemes = d.protocols.map((p) => `${p}//`);
      const list = schemes.length > 1 ? `${schemes.slice(0, -1).join(", ")} or ${schemes.at(-1)}` : schemes[0];
      return `a URL (${list})${d.path ? " or an absolute socket path" : ""}`;
    }
    case "enum":
      return `one of ${d.values.join(", ")}`;
    case "string":
      return d.allowed;
    case "path":
      return `a path of at most ${d.maxBytes} bytes`;
  }
}

/** How a value is shown in a message: as given, quoted when it has spaces or is otherwise unreadable. */
function shown(raw: string): string {
  return /^[\x21-\x7e]+$/.test(raw) ? raw : JSON.stringify(raw);
}

/** The value `raw` stands for, or undefined when the definition does not accept it. */
function parse(d: VarDef, raw: string): string | number | undefined {
  switch (d.kind) {
    case "integer": {
      if (!/^[+-]?\d+$/.test(raw)) return undefined;
      const n = Number(raw);
      return Number.isSafeInteger(n) && n >= d.min && (d.max === undefined || n <= d.max) ? n : undefined;
    }
    case "number": {
      if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(raw)) return undefined;
      const n = Number(raw);
      return n >= d.min && (d.max === undefined || n <= d.max) ? n : undefined;
    }
    case "url": {
      if (d.path && raw.startsWith("/")) return raw;
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        return undefined;
      }
      if (!d.protocols.includes(u.protocol)) return undefined;
      if (u.protocol === "unix:") return u.pathname.length > 1 ? raw : undefined;
      return u.hostname ? raw.replace(/\/+$/, "") : undefined;
    }
    case "enum": {
      const v = raw.toLowerCase();
      return d.values.includes(v) ? v : undefined;
    }
    case "string":
      return d.pattern.test(raw) ? raw : undefined;
    case "path":
      return raw.includes("\0") || new TextEncoder().encode(raw).length > d.maxBytes ? undefined : raw;
  }
}

/**
 * Reads and checks every variable of VARS from `env` (process.env on Node, the bindings on Workers). Throws one
 * Error naming every bad variable, its value and what is allowed.
 */
export function readVars(env: EnvLike): Vars {
  const out: Record<string, string | number | undefined> = {};
  const problems: string[] = [];
  for (const [name, d] of Object.entries(VARS) as [VarName, VarDef][]) {
    const given = env[name];
    const raw = d.kind === "string" || given === undefined ? given : given.trim();
    if (raw === undefined || raw === "") {
      out[name] = d.default;
      continue;
    }
    const v = parse(d, raw);
    if (v === undefined) {
      const unset =
        d.default !== undefined ? `unset it for the default ${d.default}` : `unset it ${d.unset ?? "to leave it off"}`;
      problems.push(`${name}=${shown(raw)}: expected ${describeAllowed(d)}; ${unset}`);
    }
    out[name] = v;
  }
  if (problems.length > 0) throw new Error(problems.join("\n"));
  return out as Vars;
}

export interface RouterParams {
  fees: Record<ProcessorName, number>;
  /**
   * A processor whose latency reaches this is unsafe: it inserts the row when its delay ends, and if that is
   * later than the auditor's window end (now - 1.5 s preview, now - 2 s final) the books differ until our
   * answer arrives. Below it, the row lands and is recorded before the auditor can look.
   */
  unsafeLatencyMs: number;
  /** After an observed failure, a processor is avoided this long unless a probe succeeds. */
  errorCooldownMs: number;
  /**
   * A failing processor gets one probe payment at most this often. Probes do not wait for each other: one
   * caught in a long delay must not hide a recovery that the next probe would see.
   */
  probeIntervalMs: number;
  /**
   * A regular request still waiting this long past the latency we know means the delay just jumped: the
   * processor counts as slow at once, instead of when its oldest request reaches unsafeLatencyMs (the
   * final's 103 -> 2000 ms stage would otherwise send ~1.2 s of payments into late inserts).
   */
  overdueMarginMs: number;
  /** A health poll older than this is ignored. */
  staleHealthMs: number;
  /** An observed latency older than this is ignored. */
  staleLatencyMs: number;
  /** After a payment waited this long, a slow (not failing) processor is better than holding it longer. */
  maxHoldMs: number;
  /**
   * Patience: while the cheaper processor fails, a payment younger than this waits for it instead of paying
   * the dearer fee at once (0: never wait). Failures are usually short, and the probes say when it is back.
   */
  feeHoldMs: number;
  /** Caps feeHoldMs at holdHorizonMs x fee gap / (1 - cheaper fee): the bet that it recovers in time. */
  holdHorizonMs: number;
  /**
   * Requests a processor serves at once (the rest queue there and wait a whole delay more): one process sends
   * at most this many x floor(unsafeLatencyMs / latency) to it at a time (0: no limit). See atCapacity().
   */
  processorSlots: number;
  /** After one processor turns overdue, the other gets one scout payment before any more (see route()). */
  scoutOnChange: boolean;
}

export const DEFAULT_ROUTER_PARAMS: Omit<RouterParams, "fees"> = {
  unsafeLatencyMs: VARS.UNSAFE_LATENCY_MS.default,
  errorCooldownMs: VARS.ERROR_COOLDOWN_MS.default,
  probeIntervalMs: VARS.PROBE_INTERVAL_MS.default,
  overdueMarginMs: VARS.OVERDUE_MARGIN_MS.default,
  staleHealthMs: 12_000,
  // Longer than the real poll period (1 s tick + 5.1 s lock), so an observed jump is not forgotten before
  // the next poll confirms it.
  staleLatencyMs: 7000,
  maxHoldMs: VARS.MAX_HOLD_MS.default,
  feeHoldMs: VARS.FEE_HOLD_MS.default,
  holdHorizonMs: VARS.HOLD_HORIZON_MS.default,
  processorSlots: VARS.PROCESSOR_SLOTS.default,
  scoutOnChange: true,
};

/** Everything a runtime is built from. */
export interface Config {
  role: "all" | "api" | "worker";
  store: "memory" | "redis";
  listen: { port: number; host: string; socketPath?: string };
  redis: { url: string; prefix: string; claimIdleMs: number; batchMs: number; entriesPerCall: number };
  /** How long attempt claims and exact ledger entries are kept (the state is bounded by time). */
  retention: Retention;
  processorUrls: Record<ProcessorName, string>;
  router: RouterParams;
  /** Client timeout of a payment request; well above the slowest delay the contest sets (5000 ms). */
  payTimeoutMs: number;
  lookupTimeoutMs: number;
  healthTimeoutMs: number;
  /** Health poll lock: one poll per processor per window across all instances (the processor allows 1 per 5 s). */
  healthWindowMs: number;
  /** Longest a held payment waits inside the consumer for a processor before going back to the queue. */
  holdWaitMs: number;
  /** Most sends per second of one worker (0: no limit). */
  forwardRate: number;
  retry: { baseMs: number; maxMs: number };
  /** Most payments one instance waits on the queue for at once; past it, 503 (0: no limit). */
  maxPendingAccepts: number;
  purgeToken?: string;
  maxInFlight: number;
  tickMs: number;
  /** Admission control's threshold on the smoothed event-loop lag (0: off). */
  shedLagMs: number;
  warmupRequests: number;
  logLevel: Level;
  /** The Workers Queue consumer's max_retries. */
  queueMaxRetries: number;
  /** Workers only: how many Books Durable Objects hold the claims and ledger. */
  booksShards: number;
}

/** Reads configuration from environment-like bindings (process.env on Node, env on Workers); see readVars. */
export function loadConfig(env: EnvLike): Config {
  const v = readVars(env);
  return {
    role: v.ROLE,
    store: v.STORE,
    listen: { port: v.PORT, host: v.HOST, socketPath: v.SOCKET_PATH },
    redis: {
      url: v.REDIS_URL,
      prefix: v.REDIS_PREFIX,
      claimIdleMs: v.REDIS_CLAIM_IDLE_MS,
      batchMs: v.REDIS_BATCH_MS,
      entriesPerCall: v.REDIS_ENTRIES_PER_CALL,
    },
    retention: {
      idempotencyWindowMs: v.IDEMPOTENCY_WINDOW_MS,
      ledgerRetentionMs: v.LEDGER_RETENTION_MS,
      ledgerDetailMs: v.LEDGER_DETAIL_MS,
    },
    processorUrls: { default: v.PROCESSOR_DEFAULT_URL, fallback: v.PROCESSOR_FALLBACK_URL },
    router: {
      ...DEFAULT_ROUTER_PARAMS,
      fees: { default: v.FEE_DEFAULT, fallback: v.FEE_FALLBACK },
      unsafeLatencyMs: v.UNSAFE_LATENCY_MS,
      errorCooldownMs: v.ERROR_COOLDOWN_MS,
      probeIntervalMs: v.PROBE_INTERVAL_MS,
      overdueMarginMs: v.OVERDUE_MARGIN_MS,
      maxHoldMs: v.MAX_HOLD_MS,
      feeHoldMs: v.FEE_HOLD_MS,
      holdHorizonMs: v.HOLD_HORIZON_MS,
      processorSlots: v.PROCESSOR_SLOTS,
      scoutOnChange: true,
    },
    payTimeoutMs: v.PAY_TIMEOUT_MS,
    lookupTimeoutMs: v.LOOKUP_TIMEOUT_MS,
    healthTimeoutMs: v.HEALTH_TIMEOUT_MS,
    healthWindowMs: v.HEALTH_WINDOW_MS,
    holdWaitMs: v.HOLD_WAIT_MS,
    forwardRate: v.FORWARD_RATE,
    retry: { baseMs: v.RETRY_BASE_MS, maxMs: v.RETRY_MAX_MS },
    maxPendingAccepts: v.MAX_PENDING_ACCEPTS,
    purgeToken: v.PURGE_TOKEN,
    maxInFlight: v.MAX_IN_FLIGHT,
    tickMs: v.TICK_MS,
    shedLagMs: v.SHED_LAG_MS,
    warmupRequests: v.WARMUP_REQUESTS,
    logLevel: v.LOG_LEVEL,
    queueMaxRetries: v.QUEUE_MAX_RETRIES,
    booksShards: v.BOOKS_SHARDS,
  };
}

/** The variables a runtime reads (for passing on exactly those, e.g. to a Worker's bindings). */
export function varsUsedBy(use: Use): VarName[] {
  return (Object.keys(VARS) as VarName[]).filter((n) => (VARS[n].uses as readonly Use[]).includes(use));
}
