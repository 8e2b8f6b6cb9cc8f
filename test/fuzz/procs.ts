// Real processes for the fuzz and overload suites: the built Node entry (`node dist/node.js`) and the processor
// emulator, each as a child process, so their memory and CPU are theirs and a crash is visible as an exit.
// Children are ended by their own pid; an aborted run still kills them (process "exit" hook).
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { request } from "undici";
import { ensureBuilt, freePort, REPO_DIR } from "../../bench/stack/stack";

const live = new Set<ChildProcess>();
process.once("exit", () => { for (const c of live) c.kill("SIGKILL"); });

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  url: string;
  /** The last few KB of its stdout and stderr. */
  output(): string;
  /** Still running (no exit seen, and the pid answers signal 0). */
  alive(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it ended. */
  stop(graceMs?: number): Promise<string>;
}

function track(name: string, proc: ChildProcess, url: string): Child {
  let out = "";
  const keep = (b: Buffer) => { out = (out + b.toString()).slice(-8000); };
  proc.stdout?.on("data", keep);
  proc.stderr?.on("data", keep);
  live.add(proc);
  let ended: string | undefined;
  const exited = new Promise<string>((resolve) => {
    proc.once("exit", (code, signal) => {
      live.delete(proc);
      ended = `exited (code ${code}, signal ${signal})`;
      resolve(ended);
    });
  });
  const alive = () => {
    if (ended || proc.pid === undefined) return false;
    try { process.kill(proc.pid, 0); return true; } catch { return false; }
  };
  return {
    name, proc, pid: proc.pid ?? -1, url,
    output: () => out,
    alive,
    async stop(graceMs = 5000) {
      if (!alive()) return ended ?? "not running";
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      const how = await exited;
      clearTimeout(t);
      return how;
    },
  };
}

/** Polls `url` until it answers 2xx; fails with the child's output when it exits or takes longer than `timeoutMs`. */
export async function waitReady(child: Child, path: string, timeoutMs = 15_000, headers: Record<string, string> = {}): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && child.alive()) {
    try {
      const r = await request(child.url + path, { headers, headersTimeout: 1000, bodyTimeout: 1000 });
      await r.body.dump();
      if (r.statusCode < 300) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${child.name} ${child.alive() ? `not ready after ${timeoutMs} ms` : "exited"} (${child.url}${path}). Its output:\n${child.output()}`);
}

/** `node dist/node.js` (rebuilt first when older than the sources) with `env` on a free loopback port. */
export async function spawnBackend(name: string, env: Record<string, string>): Promise<Child> {
  const entry = ensureBuilt(() => {});
  const port = await freePort();
  const proc = spawn(process.execPath, [entry], {
    cwd: REPO_DIR,
    env: { PATH: process.env.PATH ?? "", ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const child = track(name, proc, `http://127.0.0.1:${port}`);
  await waitReady(child, "/healthz").catch(async (err) => { await child.stop(500); throw err; });
  return child;
}

export interface EmulatorChild extends Child {
  fee: number;
  /** Every stored correlationId (lower case, as the processor keys them) with its cents. */
  rows(): Promise<{ correlationId: string; amountCents: number }[]>;
  /** The emulator's own counters (EmulatorStats). */
  stats(): Promise<{ payments: { ok: number; failed: number; duplicate: number; invalid: number; rejected: number } }>;
  /** GET /admin/payments-summary over HTTP, as the contest's checker asks it. */
  adminSummary(from?: string, to?: string): Promise<{ totalRequests: number; totalAmount: number }>;
}

/** The processor emulator in its own process (test/fuzz/emulator-child.ts), reached over HTTP and IPC. */
export async function spawnEmulator(name: string, fee: number): Promise<EmulatorChild> {
  const port = await freePort();
  const proc = spawn(process.execPath, ["--import", "tsx", join(REPO_DIR, "test/fuzz/emulator-child.ts"), String(port), String(fee)], {
    cwd: REPO_DIR,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  const child = track(name, proc, `http://127.0.0.1:${port}`);
  await waitReady(child, "/admin/payments-summary", 20_000, { "x-rinha-token": "123" }).catch(async (err) => { await child.stop(500); throw err; });
  let seq = 0;
  const ask = <T>(op: string) => new Promise<T>((resolve, reject) => {
    const id = ++seq;
    const onMsg = (m: { id: number; value: T }) => { if (m.id === id) { proc.off("message", onMsg); resolve(m.value); } };
    proc.on("message", onMsg);
    proc.send({ id, op }, (err) => { if (err) { proc.off("message", onMsg); reject(err); } });
  });
  return {
    ...child,
    fee,
    rows: () => ask("rows"),
    stats: () => ask("stats"),
    async adminSummary(from, to) {
      const q = new URLSearchParams();
      if (from) q.set("from", from);
      if (to) q.set("to", to);
      const r = await request(`${child.url}/admin/payments-summary?${q}`, { headers: { "x-rinha-token": "123" } });
      if (r.statusCode !== 200) throw new Error(`${name} admin summary answered ${r.statusCode}: ${await r.body.text()}`);
      return (await r.body.json()) as { totalRequests: number; totalAmount: number };
    },
  };
}

/** Prometheus text -> series ("name{labels}") -> value. */
export function parseMetrics(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

export async function scrape(url: string): Promise<Map<string, number>> {
  const r = await request(`${url}/metrics`);
  if (r.statusCode !== 200) throw new Error(`${url}/metrics answered ${r.statusCode}`);
  return parseMetrics(await r.body.text());
}

/** Sum of every series of `name` (any labels). */
export function total(m: Map<string, number>, name: string): number {
  let n = 0;
  for (const [k, v] of m) if (k === name || k.startsWith(`${name}{`)) n += v;
  return n;
}

/** Peak resident set size of a process so far (Linux /proc), in bytes. */
export function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** CPU time (user + system) a process has used so far, in seconds (Linux /proc). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // after "pid (comm) "
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100 on Linux)
}
