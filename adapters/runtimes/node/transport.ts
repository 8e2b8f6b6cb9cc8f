import { type Dispatcher, Pool } from "undici";
import type { Transport, TransportAnswer } from "../../../handlers/contract/transport";
import { PROCESSORS, type ProcessorName } from "../../../handlers/contract/types";

const TIMEOUT_CODES = new Set([
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_ABORTED",
]);

const JSON_HEADERS = { "content-type": "application/json" };

function failure(err: unknown): TransportAnswer {
  const e = err as Error & { code?: string };
  return {
    error: e.code && TIMEOUT_CODES.has(e.code) ? "timeout" : "network",
    message: `${e.code ?? e.name}: ${e.message}`,
  };
}

/**
 * undici keep-alive pools, one per processor, sized for head-of-line-free forwarding: at 2 s delay and
 * 600 payments/s about 1,200 requests wait at once (a processor admits 800 + 500 queued).
 */
export function undiciTransport(urls: Record<ProcessorName, string>, connections = 1300): Transport {
  const pools = Object.fromEntries(
    PROCESSORS.map((p) => [p, new Pool(urls[p], { connections, pipelining: 1, keepAliveTimeout: 30_000 })]),
  ) as Record<ProcessorName, Pool>;
  return {
    // dispatch() with a small handler instead of request(): no Readable body stream, no promise chain per
    // chunk; the worker makes ~1 call per payment, and its CPU is shared with the APIs on the same cores.
    send(p, req, timeoutMs): Promise<TransportAnswer> {
      return new Promise((resolve) => {
        let status = 0;
        const chunks: Buffer[] = [];
        // The callback style Pool.dispatch takes in undici 7 (it refuses a handler without onConnect).
        const handler: Dispatcher.DispatchHandler = {
          onConnect() {},
          onHeaders(statusCode) {
            status = statusCode;
            return true;
          },
          onData(chunk) {
            chunks.push(chunk);
            return true;
          },
          onComplete() {
            const body = chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks).toString();
            resolve({ status, body });
          },
          onError(err) {
            resolve(failure(err));
          },
        };
        try {
          pools[p].dispatch(
            {
              method: req.method,
              path: req.path,
              body: req.body,
              headers: req.body === undefined ? undefined : JSON_HEADERS,
              headersTimeout: timeoutMs,
              bodyTimeout: timeoutMs,
            },
            handler,
          );
        } catch (err) {
          resolve(failure(err));
        }
      });
    },
    async close() {
      await Promise.all(Object.values(pools).map((pool) => pool.close()));
    },
  };
}
