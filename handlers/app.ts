import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { log } from "./contract/log";
import type { PaymentJob, Summary } from "./contract/types";
import type { AppEnv } from "./env";
import { lookupAnswer } from "./lookup";
import { formatCents } from "./money";
import { isInvalid, MAX_BODY_BYTES, parsePayment, parseWindow } from "./validate";

type HonoEnv = { Bindings: AppEnv };

const jsonHeaders = { "content-type": "application/json" };
const emptyHeaders = { "content-length": "0" };
/** application/json, optionally with parameters; not application/jsonp, application/json-seq, ... */
const JSON_TYPE = /^application\/json[ \t]*(?:;|$)/i;
const json = (status: number, body: string) => new Response(body, { status, headers: jsonHeaders });
const error = (status: number, message: string, field?: string) =>
  json(status, JSON.stringify(field ? { error: message, field } : { error: message }));

// Ids unique across processes without a random call per request.
const jobPrefix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}-`;
let jobSeq = 0;

/** The `fetch` handler: the HTTP API. */
export function createApp(): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();

  const tooLarge = (c: { env: AppEnv }) => {
    c.env.metrics.inc("rejected_total", { reason: "size" });
    return error(413, `body larger than ${MAX_BODY_BYTES} bytes`);
  };
  // A chunked body (no content-length) is counted in bytes as it arrives, so it cannot fill the memory first.
  const limitChunked = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: tooLarge });

  app.post(
    "/payments",
    async (c, next) => {
      if (!JSON_TYPE.test(c.req.header("content-type") ?? "")) {
        c.env.metrics.inc("rejected_total", { reason: "content-type" });
        return error(415, "content-type must be application/json");
      }
      // A declared length is enforced by the HTTP parser, so the header is enough. This also keeps the body
      // on @hono/node-server's fast path: touching request.body builds a full Request and AbortController,
      // which was most of the accept path's CPU (1.4 ms per POST).
      const length = c.req.header("content-length");
      if (length !== undefined && c.req.header("transfer-encoding") === undefined) {
        return Number(length) > MAX_BODY_BYTES ? tooLarge(c) : next();
      }
      return limitChunked(c, next);
    },
    async (c) => {
      const text = await c.req.text();
      const p = parsePayment(text);
      if (isInvalid(p)) {
        c.env.metrics.inc("rejected_total", { reason: p.field ?? "body" });
        return error(400, p.error, p.field);
      }
      const cap = c.env.config.maxPendingAccepts;
      const accepts = c.env.accepts;
      if (cap > 0 && accepts.pending >= cap) {
        c.env.metrics.inc("rejected_total", { reason: "queue-slow" });
        return error(503, `payment queue is slow (${accepts.pending} payments waiting on it); retry later`);
      }
      const job: PaymentJob = {
        jobId: jobPrefix + (jobSeq++).toString(36),
        correlationId: p.correlationId,
        amountCents: p.amountCents,
        receivedAt: Date.now(),
      };
      accepts.pending++;
      try {
        await c.env.store.queue.send(job);
      } catch (err) {
        // Never a 2xx for a payment we did not store: the client may retry.
        c.env.metrics.inc("rejected_total", { reason: "queue-unavailable" });
        log("error", "queue_unavailable", { error: (err as Error).message });
        return error(503, "payment queue unavailable; retry later");
      } finally {
        accepts.pending--;
      }
      c.env.metrics.inc("accepted_total");
      // An explicit empty length: without it the 202 goes out chunked, which costs Caddy and us a chunk each.
      return new Response(null, { status: 202, headers: emptyHeaders });
    },
  );

  app.get("/payments-summary", async (c) => {
    const w = parseWindow(c.req.query("from"), c.req.query("to"));
    if (isInvalid(w)) return error(400, w.error, w.field);
    let s: Summary;
    try {
      s = await c.env.store.ledger.summary(w.from, w.to);
    } catch (err) {
      log("error", "ledger_unavailable", { error: (err as Error).message });
      return error(503, "ledger unavailable; retry later");
    }
    return json(
      200,
      `{"default":{"totalRequests":${s.default.totalRequests},"totalAmount":${formatCents(s.default.totalCents)}},` +
        `"fallback":{"totalRequests":${s.fallback.totalRequests},"totalAmount":${formatCents(s.fallback.totalCents)}}}`,
    );
  });

  app.get("/payments/:id", async (c) => {
    const id = c.req.param("id");
    try {
      const [entry, claim] = await Promise.all([c.env.store.ledger.lookup(id), c.env.store.attempts.get(id)]);
      const a = lookupAnswer(id, entry, claim);
      return json(a.status, a.body);
    } catch (err) {
      log("error", "ledger_unavailable", { error: (err as Error).message });
      return error(503, "ledger unavailable; retry later");
    }
  });

  app.post("/purge-payments", async (c) => {
    const token = c.env.config.purgeToken;
    if (token && c.req.header("x-purge-token") !== token)
      return error(401, "purge needs the X-Purge-Token header (PURGE_TOKEN is set)");
    try {
      await c.env.store.purge();
    } catch (err) {
      return error(503, `purge failed: ${(err as Error).message}`);
    }
    return json(200, `{"message":"purged"}`);
  });

  app.get("/healthz", (c) => json(200, `{"ok":true,"store":"${c.env.store.name}"}`));

  app.get(
    "/metrics",
    async (c) =>
      new Response(await c.env.metrics.render(), { headers: { "content-type": "text/plain; version=0.0.4" } }),
  );

  app.notFound(() => error(404, "no such endpoint; see README for the API"));
  app.onError((err) => {
    log("error", "unhandled_error", { error: err.message, stack: err.stack });
    return error(500, "internal error");
  });
  return app;
}
