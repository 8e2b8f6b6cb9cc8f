// Child processes the runner starts (emulators, the floor's responder, Caddy): separate
// processes so their CPU is not in the runner's event loop. Each is ended by its own pid.
import { spawn, type ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { send, pool } from "./http";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface Child { name: string; proc: ChildProcess; log: string[] }
const children: Child[] = [];

/** Runs a TypeScript file with this Node and tsx's loader (no extra npx process in between). */
export function spawnTs(name: string, file: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  return spawnCmd(name, process.execPath, ["--import", "tsx", file, ...args], env);
}

export function spawnCmd(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const child: Child = { name, proc, log: [] };
  const keep = (b: Buffer) => {
    child.log.push(b.toString());
    if (child.log.length > 50) child.log.shift();
  };
  proc.stdout?.on("data", keep);
  proc.stderr?.on("data", keep);
  children.push(child);
  return child;
}

/** Waits until `url` + `path` answers `ok(status)`; fails with the child's output when it died or timed out. */
export async function waitReady(child: Child, url: string, path: string, ok: (s: number) => boolean, timeoutMs = 20_000): Promise<void> {
  const p = pool(url, 1);
  const until = Date.now() + timeoutMs;
  try {
    while (Date.now() < until) {
      if (child.proc.exitCode !== null) break;
      const r = await send(p, { method: "GET", path, headers: { "x-rinha-token": "123" }, timeoutMs: 500 });
      if (ok(r.status)) return;
      await sleep(150);
    }
  } finally {
    await p.close();
  }
  const why = child.proc.exitCode !== null ? `exited with code ${child.proc.exitCode}` : `not ready after ${timeoutMs} ms`;
  throw new Error(`${child.name} ${why} (${url}${path}). Its output:\n${child.log.join("").slice(-2000)}`);
}

/** SIGTERM each child we started, then SIGKILL what is left after a grace period. */
export async function stopChildren(graceMs = 3000): Promise<void> {
  const alive = children.filter((c) => c.proc.exitCode === null && c.proc.signalCode === null);
  for (const c of alive) c.proc.kill("SIGTERM");
  const until = Date.now() + graceMs;
  while (Date.now() < until && alive.some((c) => c.proc.exitCode === null && c.proc.signalCode === null)) await sleep(50);
  for (const c of alive) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill("SIGKILL");
  children.length = 0;
}

// Never leave children behind when the runner is interrupted.
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    for (const c of children) c.proc.kill("SIGTERM");
    process.exit(130);
  });
}
