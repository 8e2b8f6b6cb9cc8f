// Warm-up: before an API process takes traffic, it serves synthetic requests to itself on a throwaway
// loopback port, with a throwaway in-memory store, so that V8 compiles the hot path (HTTP parsing, the
// adaptor, routing, validation, the answer) then, not during the first seconds of real load. Measured
// without it (preview, API at 0.25 CPU): 2-3 CFS-throttled periods per API in the first 15 s, as the
// compiler ran beside the requests, and 70-80 ms p99 spikes in those seconds.
// Nothing of it reaches the real store or the real metrics.

import { Agent, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import type { Handlers } from "../../../handlers";
import type { Config } from "../../../handlers/contract/config";
import type { Transport } from "../../../handlers/contract/transport";
import { makeEnv } from "../../../handlers/env";
import { createMemoryStore } from "../../stores/memory";

const noProcessors: Transport = {
  send: async () => ({ error: "network", message: "warm-up: no processor calls" }),
};

export interface WarmUpResult {
  requests: number;
  accepted: number;
  ms: number;
}

/** Serves `requests` synthetic requests (mostly valid POSTs, some invalid ones and summaries) to `handlers`. */
export async function warmUp(handlers: Handlers, config: Config, requests: number): Promise<WarmUpResult> {
  const t0 = performance.now();
  const store = createMemoryStore();
  const env = makeEnv(store, config, noProcessors, "warm-up");
  const server = createAdaptorServer({ fetch: (req: Request) => handlers.fetch(req, env) }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  // node:http, not undici: the server's HTTP parser is already loaded, undici's (WebAssembly) would cost
  // ~35 MB of memory in a process that never uses it otherwise.
  const port = (server.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  let next = 0,
    accepted = 0;
  const send = (method: string, path: string, body?: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port,
          method,
          path,
          agent,
          headers: body ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) } : {},
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  const one = async (i: number) => {
    const kind = i % 20;
    const status =
      kind === 19
        ? await send("GET", "/payments-summary?from=2020-01-01T00:00:00.000Z&to=2030-01-01T00:00:00.000Z")
        : await send(
            "POST",
            "/payments",
            kind === 18
              ? `{"correlationId":"not-a-uuid","amount":1}`
              : `{"correlationId":"${crypto.randomUUID()}","amount":19.9}`,
          );
    if (status === 202) accepted++;
  };
  try {
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < requests) await one(next++);
      }),
    );
  } finally {
    agent.destroy();
    await new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
    await store.close();
  }
  return { requests, accepted, ms: performance.now() - t0 };
}
