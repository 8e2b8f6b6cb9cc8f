import type { ProcessorName } from "./types";

export interface ProcessorRequest {
  method: "GET" | "POST";
  path: string;
  body?: string;
}

export type TransportAnswer = { status: number; body: string } | { error: "timeout" | "network"; message: string };

/** Outbound HTTP to the two processors. Node uses undici pools; Workers use fetch. */
export interface Transport {
  send(processor: ProcessorName, req: ProcessorRequest, timeoutMs: number): Promise<TransportAnswer>;
  close?(): Promise<void>;
}

/** A Transport on the web-standard fetch (Workers, tests). */
export function fetchTransport(urls: Record<ProcessorName, string>, fetchFn: typeof fetch = fetch): Transport {
  return {
    async send(p, req, timeoutMs) {
      try {
        const res = await fetchFn(urls[p] + req.path, {
          method: req.method,
          body: req.body,
          headers: req.body === undefined ? undefined : { "content-type": "application/json" },
          signal: AbortSignal.timeout(timeoutMs),
        });
        return { status: res.status, body: await res.text() };
      } catch (err) {
        const e = err as Error;
        const timeout = e.name === "TimeoutError" || e.name === "AbortError";
        return { error: timeout ? "timeout" : "network", message: e.message };
      }
    },
  };
}
