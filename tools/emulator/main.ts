// CLI: npm run emulator -- --port 8001 --fee 0.05 [--host 127.0.0.1] [--token 123]
//      [--max-concurrent 800] [--max-queued 500] [--health-window-ms 5000] [--health-queue 2]
//      [--delay 0] [--failure]

import { parseArgs } from "node:util";
import { startEmulator } from "./server";

const USAGE =
  "usage: tsx tools/emulator/main.ts --port 8001 --fee 0.05 [--host 127.0.0.1] [--token 123] " +
  "[--max-concurrent 800] [--max-queued 500] [--health-window-ms 5000] [--health-queue 2] [--delay 0] [--failure]";

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number >= 0, got ${v}\n${USAGE}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string" },
      fee: { type: "string" },
      token: { type: "string" },
      "max-concurrent": { type: "string" },
      "max-queued": { type: "string" },
      "health-window-ms": { type: "string" },
      "health-queue": { type: "string" },
      delay: { type: "string" },
      failure: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.fee === undefined || !/^\d+(\.\d+)?$/.test(values.fee)) {
    throw new Error(`--fee is required, a decimal like 0.05, got ${values.fee ?? "nothing"}\n${USAGE}`);
  }
  const emu = await startEmulator({
    port: int("port", values.port) ?? 8001,
    host: values.host,
    fee: Number(values.fee),
    token: values.token,
    maxConcurrent: int("max-concurrent", values["max-concurrent"]),
    maxQueued: int("max-queued", values["max-queued"]),
    healthWindowMs: int("health-window-ms", values["health-window-ms"]),
    healthQueue: int("health-queue", values["health-queue"]),
    delay: int("delay", values.delay),
    failure: values.failure,
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    emu.close().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(`emulator: error while closing on ${signal}:`, e);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  console.log(`payment-processor emulator listening on ${emu.url} fee=${values.fee}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(2);
});
