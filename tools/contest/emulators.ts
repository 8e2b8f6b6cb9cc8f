// Starts the two processor emulators (tools/emulator/main.ts) with the scenario's fees, each in its own process.
import { spawnTs, waitReady } from "./children";
import { pool, send } from "./http";

export interface ProcessorUrls {
  default: string;
  fallback: string;
}

export async function startEmulators(urls: ProcessorUrls, fees: { default: number; fallback: number }): Promise<void> {
  const which = ["default", "fallback"] as const;
  for (const w of which) await refuseBusy(urls[w]);
  const kids = which.map((w) => {
    const u = new URL(urls[w]);
    return spawnTs(`emulator ${w}`, "tools/emulator/main.ts", [
      "--port",
      u.port,
      "--fee",
      String(fees[w]),
      "--host",
      u.hostname,
    ]);
  });
  await Promise.all(which.map((w, i) => waitReady(kids[i]!, urls[w], "/admin/payments-summary", (s) => s === 200)));
}

/** Something already answering there would be measured instead of our emulator: say so. */
async function refuseBusy(url: string): Promise<void> {
  const p = pool(url, 1);
  const r = await send(p, { method: "GET", path: "/admin/payments-summary", timeoutMs: 500 });
  await p.close();
  if (r.status !== 0) {
    throw new Error(
      `${url} already answers (HTTP ${r.status}); stop that process or pass --emulators running to use it.`,
    );
  }
}
