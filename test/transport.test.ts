// The Node runtime's outbound transport (undici dispatch): what each kind of processor answer becomes.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { undiciTransport } from "../adapters/runtimes/node/transport";
import type { Transport } from "../handlers/contract/transport";

let server: Server;
let transport: Transport;
const seen: { method?: string; type?: string; body: string }[] = [];

function route(req: IncomingMessage, res: ServerResponse, body: string) {
  seen.push({ method: req.method, type: req.headers["content-type"], body });
  if (req.url === "/ok") return res.writeHead(200, { "content-type": "application/json" }).end('{"message":"ok"}');
  if (req.url === "/dup") return res.writeHead(422).end("duplicate");
  if (req.url === "/chunks") {
    res.writeHead(200);
    res.write("a".repeat(70_000));
    setTimeout(() => res.end("b"), 10);
    return;
  }
  if (req.url === "/slow") return void setTimeout(() => res.writeHead(200).end("late"), 2000);
  if (req.url === "/drop") return req.socket.destroy();
  res.writeHead(404).end();
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => route(req, res, body));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  transport = undiciTransport({ default: url, fallback: "http://127.0.0.1:9" }, 8);
});

afterAll(async () => {
  await transport.close?.();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe("undiciTransport", () => {
  it("a POST carries its JSON body and type, and the answer's status and body come back", async () => {
    const a = await transport.send("default", { method: "POST", path: "/ok", body: '{"x":1}' }, 1000);
    expect(a).toEqual({ status: 200, body: '{"message":"ok"}' });
    expect(seen.at(-1)).toEqual({ method: "POST", type: "application/json", body: '{"x":1}' });
  });

  it("a GET has no body and no content-type", async () => {
    const a = await transport.send("default", { method: "GET", path: "/ok" }, 1000);
    expect(a).toEqual({ status: 200, body: '{"message":"ok"}' });
    expect(seen.at(-1)).toEqual({ method: "GET", type: undefined, body: "" });
  });

  it("a non-2xx status is an answer, not an error", async () => {
    expect(await transport.send("default", { method: "POST", path: "/dup", body: "{}" }, 1000)).toEqual({
      status: 422,
      body: "duplicate",
    });
  });

  it("a body in several chunks arrives whole", async () => {
    const a = await transport.send("default", { method: "GET", path: "/chunks" }, 1000);
    expect("body" in a && a.body).toBe(`${"a".repeat(70_000)}b`);
  });

  it("no answer within the timeout is a timeout", async () => {
    const a = await transport.send("default", { method: "POST", path: "/slow", body: "{}" }, 200);
    expect(a).toMatchObject({ error: "timeout" });
  });

  it("a dropped connection and a refused one are network errors", async () => {
    expect(await transport.send("default", { method: "POST", path: "/drop", body: "{}" }, 1000)).toMatchObject({
      error: "network",
    });
    expect(await transport.send("fallback", { method: "GET", path: "/ok" }, 1000)).toMatchObject({
      error: "network",
    });
  });
});
