import { Pool } from "undici";
import type { Transport, TransportAnswer } from "../../../handlers/contract/transport";
import { PROCESSORS, type ProcessorName } from "../../../handlers/contract/types";

const TIMEOUT_CODES = new Set([
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_ABORTED",
]);

/**
 * undici keep-alive pools, one per processor, sized for head-of-line-free forwarding: at 2 s delay and
 * 600 payments/s about 1,200 requests wait at once (a processor admits 800 + 500 queued).
 */
export function undiciTransport(urls: Record<ProcessorName, string>, connections = 1300): Transport {
  const pools = Object.fromEntries(
    PROCESSORS.map((p) => [p, new Pool(urls[p], { connections, pipelining: 1, keepAliveTimeout: 30_000 })]),
  ) as Record<ProcessorName, Pool>;
  return {
    async send(p, req, timeoutMs): Promise<TransportAnswer> {
      try {
        const res = await pools[p].request({
          method: req.method,
          path: req.path,
          body: req.body,
          headers: req.body === undefined ? undefined : { "content-type": "application/json" },
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        return { status: res.statusCode, body: await res.body.text() };
      } catch (err) {
        const e = err as Error & { code?: string };
        return {
          error: e.code && TIMEOUT_CODES.has(e.code) ? "timeout" : "network",
          message: `${e.code ?? e.name}: ${e.message}`,
        };
      }
    },
    async close() {
      await Promise.all(Object.values(pools).map((pool) => pool.close()));
    },
  };
}
