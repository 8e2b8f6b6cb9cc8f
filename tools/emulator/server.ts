// An in-memory emulator of the contest's payment processor (facts: docs/contest.md), on bare
// node:http because the contest runner pushes ~600 payments/s through two of these on the same
// 2-core box as the backend. Behaviours and the places where we had to interpret are listed in
// ./README.md.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isUuid, parseObject, parsePayment } from "./body";
import { Ledger, type StoredPayment } from "./ledger";
import { ConcurrencyLimiter, FixedWindowLimiter, type Ticket } from "./limiters";
import { feeText, formatCents, formatScaled, parseDecimal } from "./money";
import { parseTimestampMicros } from "./time";

export interface EmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** This processor's fee, e.g. 0.05. Reported by the admin summary. */
  fee: number;
  /** Initial admin token (X-Rinha-Token). Default "123". */
  token?: string;
  /** Requests of POST /payments and GET /payments/{id} running at once. Default 800. */
  maxConcurrent?: number;
  /** Requests waiting for one of those slots. Default 500; beyond: 429. */
  maxQueued?: number;
  /** Health rate-limit window. Default 5000 ms. */
  healthWindowMs?: number;
  /** Health calls waiting for a later window. Default 2; beyond: 429. */
  healthQueue?: number;
  /** Initial delay (ms) and failure mode. Default 0 / false. */
  delay?: number;
  failure?: boolean;
  /** Largest accepted request body. Default 64 KiB; beyond: 413. */
  maxBodyBytes?: number;
}

export interface EmulatorStats {
  /** POST /payments and GET /payments/{id} running now / waiting for a slot. */
  active: number;
  queued: number;
  /** POST /payments answers by status. */
  payments: { ok: number; failed: number; duplicate: number; invalid: number; rejected: number };
  /** GET /payments/service-health: served, 429-rejected, waiting for a later window now. */
  health: { served: number; rejected: number; queued: number };
  /** GET /payments/{id} answered (any status). */
  lookups: number;
}

export interface EmulatorSummary {
  totalRequests: number;
  totalCents: bigint;
  /** totalCents / 100 as a number (exact for any realistic total). */
  totalAmount: number;
}

export interface Emulator {
  url: string;
  port: number;
  fee: number;
  close(): Promise<void>;
  /** Same effect as the admin endpoints, without the HTTP round trip. */
  setDelay(ms: number): void;
  setFailure(failing: boolean): void;
  setToken(token: string): void;
  config(): { delay: number; failure: boolean; token: string };
  /** Stored payments in requestedAt order. */
  rows(): StoredPayment[];
  get(correlationId: string): StoredPayment | undefined;
  /** The admin summary (from/to as ISO strings; all rows when either is missing). */
  summary(from?: string, to?: string): EmulatorSummary;
  purge(): void;
  stats(): EmulatorStats;
}

const JSON_TYPE = "application/json; charset=utf-8";
const PAYMENT_OK = '{"message":"payment processed successfully"}';
const FAILURE_BODY = '{"message":"payment processor failure mode is on: payment not processed"}';
const PURGED = '{"message":"All payments purged."}';
const JSON_CONTENT = /^application\/(?:[\w.+-]*\+)?json\b/i;

export async function startEmulator(opts: EmulatorOptions): Promise<Emulator> {
  const fee = parseDecimal(String(opts.fee));
  if (!fee || fee.units < 0n) throw new Error(`fee must be a non-negative decimal like 0.05, got ${opts.fee}`);
  const feePerTransaction = formatScaled(fee.units, fee.scale);
  const host = opts.host ?? "127.0.0.1";
  const maxBody = opts.maxBodyBytes ?? 64 * 1024;
  const healthWindowMs = opts.healthWindowMs ?? 5000;
  const state = { delay: opts.delay ?? 0, failure: opts.failure ?? false, token: opts.token ?? "123" };
  const ledger = new Ledger();
  // One limiter shared by POST /payments and GET /payments/{id}, as one named ASP.NET policy is.
  const payLimiter = new ConcurrencyLimiter(opts.maxConcurrent ?? 800, opts.maxQueued ?? 500);
  const healthLimiter = new FixedWindowLimiter(healthWindowMs, opts.healthQueue ?? 2);
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  const stats: EmulatorStats = {
    active: 0,
    queued: 0,
    payments: { ok: 0, failed: 0, duplicate: 0, invalid: 0, rejected: 0 },
    health: { served: 0, rejected: 0, queued: 0 },
    lookups: 0,
  };

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });
  }

  async function postPayment(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readBody(req, maxBody);
    if (text === null) return sendJson(res, 413, error(`body larger than ${maxBody} bytes`));
    if (text.trim() !== "" && !JSON_CONTENT.test(req.headers["content-type"] ?? "")) {
      stats.payments.invalid++;
      return sendJson(res, 415, error("send the body with Content-Type: application/json"));
    }
    const parsed = parsePayment(text);
    if (!parsed.ok) {
      stats.payments.invalid++;
      return sendJson(res, 400, error(parsed.error));
    }
    // (1) the delay in force when the request is handled; a client leaving does not cut it short.
    const delay = state.delay;
    if (delay > 0) await sleep(delay);
    if (closed) return;
    // (2) the failure mode in force AFTER the delay: a payment failing now stores nothing.
    if (state.failure) {
      stats.payments.failed++;
      return sendJson(res, 500, FAILURE_BODY);
    }
    // (3) insert; the first row for a correlationId stays.
    const p = parsed.value;
    if (!ledger.insert(p)) {
      stats.payments.duplicate++;
      return sendJson(
        res,
        422,
        error(`Payment could not be processed. CorrelationId already exists: ${p.correlationId}`),
      );
    }
    stats.payments.ok++;
    sendJson(res, 200, PAYMENT_OK);
  }

  function getPayment(id: string, res: ServerResponse): void {
    stats.lookups++;
    if (!isUuid(id)) {
      sendJson(res, 400, error(`payment id must be a UUID, got ${JSON.stringify(id)}`));
      return;
    }
    const p = ledger.get(id);
    if (!p) {
      sendJson(res, 404, error(`no payment ${id.toLowerCase()}`));
      return;
    }
    sendJson(
      res,
      200,
      `{"correlationId":"${p.correlationId}","amount":${formatCents(p.amountCents)},` +
        `"requestedAt":${JSON.stringify(p.requestedAt)}}`,
    );
  }

  /** Runs `work` under the payments concurrency limit: a slot now, a place in the queue, or 429. */
  function limited(res: ServerResponse, work: () => Promise<void> | void, onReject: () => void): void {
    let started = false;
    const ticket: Ticket | false = payLimiter.enter(() => {
      started = true;
      let done: Promise<void> | void;
      try {
        done = work();
      } catch (e) {
        done = Promise.reject(e);
      }
      Promise.resolve(done)
        .catch((e: unknown) => sendJson(res, 500, error(e instanceof Error ? e.message : String(e))))
        .finally(() => payLimiter.release());
    });
    if (ticket === false) {
      onReject();
      sendJson(res, 429, error("too many requests: the processor is at its concurrency limit"));
      return;
    }
    // A client that leaves while queued gives its place up (ASP.NET cancels the lease wait).
    if (!started) res.once("close", () => started || ticket.cancel());
  }

  function health(res: ServerResponse): void {
    let started = false;
    const ticket = healthLimiter.enter(() => {
      started = true;
      stats.health.served++;
      sendJson(res, 200, `{"failing":${state.failure},"minResponseTime":${state.delay}}`);
    });
    if (ticket === false) {
      stats.health.rejected++;
      if (res.destroyed) return;
      res.writeHead(429, { "content-type": "text/plain", "retry-after": String(Math.ceil(healthWindowMs / 1000)) });
      res.end("Too many requests: service-health allows 1 call per window. Try again later.");
      return;
    }
    if (!started) res.once("close", () => started || ticket.cancel());
  }

  async function admin(path: string, query: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const m = req.method;
    const known =
      (path === "/admin/payments-summary" && m === "GET") ||
      (path === "/admin/purge-payments" && m === "POST") ||
      (path.startsWith("/admin/configurations/") && m === "PUT");
    if (!known) return sendJson(res, 404, error(`no route ${m} ${path}`));
    if (req.headers["x-rinha-token"] !== state.token) {
      return sendJson(res, 401, error("wrong or missing X-Rinha-Token header"));
    }
    if (path === "/admin/payments-summary") {
      const params = new URLSearchParams(query);
      const bounds: (number | undefined)[] = [];
      for (const name of ["from", "to"]) {
        const v = params.get(name);
        if (v === null || v === "") {
          bounds.push(undefined);
          continue;
        }
        const us = parseTimestampMicros(v);
        if (us === undefined) return sendJson(res, 400, error(`${name}: not an ISO-8601 timestamp: ${v}`));
        bounds.push(us);
      }
      const t = ledger.summary(bounds[0], bounds[1]);
      return sendJson(
        res,
        200,
        `{"totalRequests":${t.totalRequests},"totalAmount":${formatCents(t.totalCents)},` +
          `"totalFee":${feeText(t.totalCents, fee!)},"feePerTransaction":${feePerTransaction}}`,
      );
    }
    if (path === "/admin/purge-payments") {
      ledger.purge();
      return sendJson(res, 200, PURGED);
    }
    const text = await readBody(req, maxBody);
    if (text === null) return sendJson(res, 413, error(`body larger than ${maxBody} bytes`));
    const body = parseObject(text);
    if (!body.ok) return sendJson(res, 400, error(body.error));
    const v = body.value;
    switch (path) {
      case "/admin/configurations/token":
        if (typeof v.token !== "string") return sendJson(res, 400, error("token: required, a string"));
        state.token = v.token;
        res.writeHead(204).end();
        return;
      case "/admin/configurations/delay": {
        const d = v.delay;
        if (typeof d !== "number" || !Number.isInteger(d) || d < 0 || d > 2_147_483_647) {
          return sendJson(res, 400, error("delay: required, a whole number of ms >= 0"));
        }
        const was = state.delay;
        state.delay = d;
        return sendJson(res, 200, `{"config":"delay","was":${was},"is":${d}}`);
      }
      case "/admin/configurations/failure": {
        const f = v.failure;
        if (typeof f !== "boolean") return sendJson(res, 400, error("failure: required, true or false"));
        const was = state.failure;
        state.failure = f;
        return sendJson(res, 200, `{"config":"failure","was":${was},"is":${f}}`);
      }
      default:
        return sendJson(res, 404, error(`no route PUT ${path}`));
    }
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    let path = q < 0 ? url : url.slice(0, q);
    if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
    const lower = path.toLowerCase(); // ASP.NET routes match case-insensitively
    const method = req.method;
    if (lower === "/payments") {
      if (method !== "POST") {
        sendJson(res, 405, error("use POST /payments"));
        return;
      }
      limited(
        res,
        () => postPayment(req, res),
        () => stats.payments.rejected++,
      );
      return;
    }
    if (lower === "/payments/service-health") {
      if (method !== "GET") {
        sendJson(res, 405, error("use GET /payments/service-health"));
        return;
      }
      health(res);
      return;
    }
    if (lower.startsWith("/payments/") && lower.indexOf("/", 10) < 0) {
      if (method !== "GET") {
        sendJson(res, 405, error("use GET /payments/{id}"));
        return;
      }
      const id = decodeURIComponent(path.slice(10));
      limited(
        res,
        () => getPayment(id, res),
        () => {},
      );
      return;
    }
    if (lower.startsWith("/admin/")) {
      admin(lower, q < 0 ? "" : url.slice(q + 1), req, res).catch((e: unknown) =>
        sendJson(res, 500, error(e instanceof Error ? e.message : String(e))),
      );
      return;
    }
    sendJson(res, 404, error(`no route ${method} ${path}`));
  }

  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      sendJson(res, 400, error(e instanceof Error ? e.message : String(e)));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

  return {
    url,
    port,
    fee: opts.fee,
    close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      payLimiter.clear();
      healthLimiter.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
    setDelay(ms) {
      if (!Number.isInteger(ms) || ms < 0) throw new Error(`delay must be a whole number of ms >= 0, got ${ms}`);
      state.delay = ms;
    },
    setFailure(failing) {
      state.failure = failing;
    },
    setToken(token) {
      state.token = token;
    },
    config: () => ({ ...state }),
    rows: () => ledger.rows(),
    get: (id) => ledger.get(id),
    summary(from, to) {
      const parse = (s: string | undefined, name: string) => {
        if (s === undefined) return undefined;
        const us = parseTimestampMicros(s);
        if (us === undefined) throw new Error(`${name}: not an ISO-8601 timestamp: ${s}`);
        return us;
      };
      const t = ledger.summary(parse(from, "from"), parse(to, "to"));
      return { totalRequests: t.totalRequests, totalCents: t.totalCents, totalAmount: Number(t.totalCents) / 100 };
    },
    purge: () => ledger.purge(),
    stats: () => ({
      ...stats,
      active: payLimiter.active,
      queued: payLimiter.queued,
      payments: { ...stats.payments },
      health: { ...stats.health, queued: healthLimiter.queued },
    }),
  };
}

function error(message: string): string {
  return JSON.stringify({ message });
}

function sendJson(res: ServerResponse, status: number, body: string): void {
  if (res.destroyed || res.headersSent) return; // the client left: nobody to answer
  res.writeHead(status, { "content-type": JSON_TYPE, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** The body as UTF-8 text, or null when it exceeds `limit` bytes. Rejects if the client leaves mid-body. */
function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on("end", () => resolve(size > limit ? null : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
    req.on("close", () => {
      if (!req.complete) reject(new Error("client closed the connection before sending the whole body"));
    });
  });
}

export type { StoredPayment } from "./ledger";
export type { Decimal } from "./money";
