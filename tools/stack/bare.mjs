// A bare stand-in for dist/node.js: the load balancer hop and the limits alone, to measure the floor under our
// own latency. `npm run stack -- --entry tools/stack/bare.mjs` (or bench/probe.ts, bench/accept.ts --entry) runs
// it where the Node entry would listen (SOCKET_PATH or PORT); `node tools/stack/bare.mjs PORT [PORT...]` listens
// on those loopback ports (the contest runner's floor). Answers 202 to POST /payments and 200 with an empty
// summary to anything else (so Caddy's /healthz check passes). Does nothing else.
import { chmodSync, unlinkSync } from "node:fs";
import { createServer } from "node:http";

const SUMMARY = JSON.stringify({
  default: { totalRequests: 0, totalAmount: 0 },
  fallback: { totalRequests: 0, totalAmount: 0 },
});

function serve() {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.method === "POST" && req.url === "/payments") res.writeHead(202, { "content-length": "0" }).end();
      else {
        const headers = { "content-type": "application/json", "content-length": Buffer.byteLength(SUMMARY) };
        res.writeHead(200, headers).end(SUMMARY);
      }
    });
  });
  server.keepAliveTimeout = 65_000;
  return server;
}

const servers = [];
const ports = process.argv.slice(2).map(Number);
const socket = process.env.SOCKET_PATH;
if (ports.length > 0) {
  if (ports.some((p) => !Number.isInteger(p) || p <= 0 || p > 65535)) {
    console.error("usage: node tools/stack/bare.mjs [PORT...] (without ports: SOCKET_PATH or PORT, default 9999)");
    process.exit(2);
  }
  for (const port of ports) servers.push(serve().listen(port, "127.0.0.1"));
} else if (socket) {
  try {
    unlinkSync(socket);
  } catch {}
  servers.push(serve().listen(socket, () => chmodSync(socket, 0o666)));
} else servers.push(serve().listen(Number(process.env.PORT || 9999)));
const where = ports.length > 0 ? ports.join(", ") : (socket ?? process.env.PORT ?? 9999);
console.log(`bare responder: role=${process.env.ROLE ?? "all"} on ${where}`);
for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => {
    let open = servers.length;
    for (const s of servers) {
      s.close(() => {
        open -= 1;
        if (open === 0) process.exit(0);
      });
      s.closeAllConnections();
    }
  });
}
