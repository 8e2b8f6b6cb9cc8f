// Real processes for the fuzz and overload suites: the built Node entry (`node dist/node.js`) and the processor
// emulator, each as a child process, so their memory and CPU are theirs and a crash is visible as an exit.
import { join } from "node:path";
import { request } from "undici";
import { parseMetrics } from "../../../tools/lib/metrics-text";
import { freePort } from "../../../tools/lib/ports";
import { type Child, type NodeProc, spawnTs, startNode, waitHttp } from "../../../tools/lib/procs";
import { REPO_DIR } from "../../../tools/lib/repo";

export type { Child, NodeProc };

/** `node dist/node.js` with `env` on a free loopback port, once it answers /healthz. */
export async function spawnBackend(name: string, env: Record<string, string>): Promise<NodeProc> {
  const child = await startNode(name, env);
  await waitHttp(child, `${child.url}/healthz`).catch(async (err) => {
    await child.stop(500);
    throw err;
  });
  return child;
}

export interface EmulatorChild extends Child {
  url: string;
  fee: number;
  /** Every stored correlationId (lower case, as the processor keys them) with its cents. */
  rows(): Promise<{ correlationId: string; amountCents: number }[]>;
  /** The emulator's own counters (EmulatorStats). */
  stats(): Promise<{ payments: { ok: number; failed: number; duplicate: number; invalid: number; rejected: number } }>;
  /** GET /admin/payments-summary over HTTP, as the contest's checker asks it. */
  adminSummary(from?: string, to?: string): Promise<{ totalRequests: number; totalAmount: number }>;
}

/** The processor emulator in its own process (emulator-child.ts), reached over HTTP and IPC. */
export async function spawnEmulator(name: string, fee: number): Promise<EmulatorChild> {
  const port = await freePort();
  const child = spawnTs(name, join(REPO_DIR, "test/support/fuzz/emulator-child.ts"), [String(port), String(fee)], {
    ipc: true,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(child, `${url}/admin/payments-summary`, {
    timeoutMs: 20_000,
    headers: { "x-rinha-token": "123" },
  }).catch(async (err) => {
    await child.stop(500);
    throw err;
  });
  let seq = 0;
  const ask = <T>(op: string) =>
    new Promise<T>((resolve, reject) => {
      const id = ++seq;
      const onMsg = (m: { id: number; value: T }) => {
        if (m.id === id) {
          child.proc.off("message", onMsg);
          resolve(m.value);
        }
      };
      child.proc.on("message", onMsg);
      child.proc.send({ id, op }, (err) => {
        if (err) {
          child.proc.off("message", onMsg);
          reject(err);
        }
      });
    });
  return {
    ...child,
    url,
    fee,
    rows: () => ask("rows"),
    stats: () => ask("stats"),
    async adminSummary(from, to) {
      const q = new URLSearchParams();
      if (from) q.set("from", from);
      if (to) q.set("to", to);
      const r = await request(`${url}/admin/payments-summary?${q}`, { headers: { "x-rinha-token": "123" } });
      if (r.statusCode !== 200)
        throw new Error(`${name} admin summary answered ${r.statusCode}: ${await r.body.text()}`);
      return (await r.body.json()) as { totalRequests: number; totalAmount: number };
    },
  };
}

export async function scrape(url: string): Promise<Map<string, number>> {
  const r = await request(`${url}/metrics`);
  if (r.statusCode !== 200) throw new Error(`${url}/metrics answered ${r.statusCode}`);
  return parseMetrics(await r.body.text());
}
