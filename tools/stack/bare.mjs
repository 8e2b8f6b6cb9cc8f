// A bare stand-in for dist/node.js, for `probe.ts --entry bench/bare.mjs`: the load balancer hop and the
// limits alone. Listens where the Node entry would (SOCKET_PATH or PORT), answers 202 to POST /payments and 200
// with an empty summary to anything else (so Caddy's /healthz check passes). Does nothing else.
import { chmodSync, unlinkSync } from "node:fs";
import { createServer } from "node:http";

const SUMMARY = JSON.stringify({
  default: { totalRequests: 0, totalAmount: 0 },
  fallback: { totalRequests: 0, totalAmount: 0 },
});
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    if (req.method === "POST" && req.url === "/payments") res.writeHead(202, { "content-length": "0" }).end();
    else
      res
        .writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(SUMMARY) })
        .end(SUMMARY);
  });
});
server.keepAliveTimeout = 65_000;
const socket = process.env.SOCKET_PATH;
if (socket) {
  try {
    unlinkSync(socket);
  } catch {}
  server.listen(socket, () => chmodSync(socket, 0o666));
} else server.listen(Number(process.env.PORT ?? 9999));
console.log(`bare responder: role=${process.env.ROLE ?? "all"} on ${socket ?? process.env.PORT ?? 9999}`);
for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
