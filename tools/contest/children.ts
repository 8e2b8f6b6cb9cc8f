// Child processes the runner starts (emulators, the floor's responder, Caddy): separate processes so their CPU
// is not in the runner's event loop. Each is ended by its own pid (tools/lib/procs).
import { type Child, spawnChild, spawnTs as spawnTsChild, waitHttp } from "../lib/procs";

export type { Child };

const children: Child[] = [];

/** Runs a TypeScript file of the repository with this Node and tsx's loader; `env` adds to this process's. */
export function spawnTs(name: string, file: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const c = spawnTsChild(name, file, args, { env: { ...process.env, ...env }, keepLines: 50 });
  children.push(c);
  return c;
}

export function spawnCmd(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const c = spawnChild(name, cmd, args, { env: { ...process.env, ...env }, keepLines: 50 });
  children.push(c);
  return c;
}

/** Waits until `url` + `path` answers `ok(status)`; fails with the child's output when it died or timed out. */
export function waitReady(
  child: Child,
  url: string,
  path: string,
  ok: (s: number) => boolean,
  timeoutMs = 20_000,
): Promise<void> {
  return waitHttp(child, url + path, { ok, timeoutMs, headers: { "x-rinha-token": "123" } });
}

/** SIGTERM each child we started, then SIGKILL what is left after a grace period. */
export async function stopChildren(graceMs = 3000): Promise<void> {
  await Promise.all(children.splice(0).map((c) => c.stop(graceMs)));
}

// Never leave children behind when the runner is interrupted.
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    for (const c of children) c.proc.kill("SIGTERM");
    process.exit(130);
  });
}
