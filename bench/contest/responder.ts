// A bare responder for the runner's floor: 202 to POST /payments, a fixed summary, nothing else.
// Usage: node --import tsx bench/contest/responder.ts PORT [PORT...]
import { createServer } from "node:http";

const SUMMARY = JSON.stringify({ default: { totalRequests: 0, totalAmount: 0 }, fallback: { totalRequests: 0, totalAmount: 0 } });
const ports = process.argv.slice(2).map(Number);
if (!ports.length || ports.some((p) => !(p > 0))) {
  console.error("usage: responder.ts PORT [PORT...]");
  process.exit(2);
}
for (const port of ports) {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.method === "POST" && req.url === "/payments") {
        res.writeHead(202, { "content-length": "0" }).end();
      } else {
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(SUMMARY) }).end(SUMMARY);
      }
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(port, "127.0.0.1");
}
process.on("SIGTERM", () => process.exit(0));
