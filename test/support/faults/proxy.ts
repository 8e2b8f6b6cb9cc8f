// A fault-injecting HTTP proxy in front of a processor emulator. Per request, `plan` decides:
//   pass  - forward and relay the answer;
//   drop  - forward, let the processor finish (it stored the payment), then break the connection instead
//           of relaying the answer: nothing, half a status line, or the headers and half the body;
//   429   - answer 429 without forwarding (the processor never sees it: nothing stored).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Pool } from "undici";

export type Fault = "pass" | "drop" | "429";
export type FaultPlan = (req: { method: string; path: string }) => Fault;

export interface FaultProxy {
  url: string;
  stats: { passed: number; dropped: number; rejected: number };
  setPlan(plan: FaultPlan): void;
  close(): Promise<void>;
}

/** A plan that applies `fault` to a `fraction` of the payment calls (POST /payments and GET /payments/{id}). */
export function onPayments(fault: Fault, fraction: number): FaultPlan {
  return ({ path }) =>
    path.startsWith("/payments") && !path.startsWith("/payments/service-health") && Math.random() < fraction
      ? fault
      : "pass";
}

export async function startFaultProxy(target: string, plan: FaultPlan): Promise<FaultProxy> {
  const upstream = new Pool(target, { connections: 256, keepAliveTimeout: 30_000 });
  const stats = { passed: 0, dropped: 0, rejected: 0 };
  let current = plan;
  let drops = 0;

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const path = req.url ?? "/";
    const fault = current({ method: req.method ?? "GET", path });
    if (fault === "429") {
      stats.rejected++;
      res.writeHead(429, { "content-type": "application/json" }).end('{"message":"too many requests (fault proxy)"}');
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (
        typeof v === "string" &&
        !["connection", "keep-alive", "host", "content-length", "transfer-encoding"].includes(k)
      )
        headers[k] = v;
    }
    const up = await upstream.request({
      method: req.method as "GET",
      path,
      headers,
      body: body.length > 0 ? body : undefined,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    const text = Buffer.from(await up.body.arrayBuffer());
    if (fault === "drop") {
      // The processor has finished (and stored, for a POST): the client never learns it.
      stats.dropped++;
      const sock = req.socket;
      const how = drops++ % 3;
      if (how === 1) sock.write("HTTP/1.1 20");
      if (how === 2)
        sock.write(
          `HTTP/1.1 ${up.statusCode} OK\r\ncontent-type: application/json\r\ncontent-length: ` +
            `${text.length}\r\n\r\n${text.subarray(0, Math.floor(text.length / 2)).toString()}`,
        );
      sock.destroy();
      return;
    }
    stats.passed++;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(up.headers)) {
      if (typeof v === "string" && !["connection", "keep-alive", "transfer-encoding", "content-length"].includes(k))
        out[k] = v;
    }
    out["content-length"] = String(text.length);
    res.writeHead(up.statusCode, out).end(text);
  }

  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent && !res.destroyed)
        res
          .writeHead(502, { "content-type": "application/json" })
          .end(JSON.stringify({ message: `fault proxy: ${err.message}` }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    setPlan(p) {
      current = p;
    },
    async close() {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await upstream.destroy();
    },
  };
}
