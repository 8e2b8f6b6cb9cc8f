// Child processes for tests, benchmarks and tools: started, watched and ended by their own pid. Every child is
// registered, so killAll() ends what a test left running and the exit hook ends them even when the runner itself
// is torn down. `startNode` runs the built backend (`node dist/node.js`) with exactly the environment given.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { bundleStaleness, NODE_BUNDLE, REPO_DIR } from "./repo";

export { sleep };

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** Resolves when the process has exited (code or signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  /** Its last lines of output (stderr lines start with "! "). */
  output(): string;
  /** Sends `signal` and waits for the exit (SIGKILL after `graceMs` for a softer signal). */
  kill(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it ended. */
  stop(graceMs?: number): Promise<string>;
}

export interface SpawnOptions {
  /** Default: the repository. */
  cwd?: string;
  /** The child's whole environment (PATH is added when missing). Default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Open an IPC channel (child.proc.send / "message"). */
  ipc?: boolean;
  /** Lines of output kept for output(). Default 200. */
  keepLines?: number;
}

const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

export function spawnChild(name: string, cmd: string, args: string[], o: SpawnOptions = {}): Child {
  const env = { ...(o.env ?? process.env) };
  env.PATH ??= process.env.PATH ?? "/usr/bin:/bin";
  const proc = spawn(cmd, args, {
    cwd: o.cwd ?? REPO_DIR,
    env,
    stdio: ["ignore", "pipe", "pipe", ...(o.ipc ? (["ipc"] as const) : [])],
  });
  children.add(proc);
  const lines: string[] = [];
  const keepLines = o.keepLines ?? 200;
  const keep = (prefix: string) => (b: Buffer) => {
    for (const l of String(b).split("\n")) if (l) lines.push(prefix + l);
    if (lines.length > keepLines) lines.splice(0, lines.length - keepLines);
  };
  proc.stdout!.on("data", keep(""));
  proc.stderr!.on("data", keep("! "));
  let ended: string | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once("exit", (code, signal) => {
      children.delete(proc);
      ended = `exited (code ${code}, signal ${signal})`;
      resolve({ code, signal });
    });
    proc.once("error", (err) => {
      lines.push(`! cannot run ${cmd}: ${err.message}`);
      children.delete(proc);
      ended = `could not start (${err.message})`;
      resolve({ code: null, signal: null });
    });
  });
  const alive = () => ended === undefined && proc.exitCode === null && proc.signalCode === null;
  const kill = async (signal: NodeJS.Signals = "SIGKILL", graceMs = 5000) => {
    if (!alive()) return;
    proc.kill(signal);
    const t = signal === "SIGKILL" ? undefined : setTimeout(() => alive() && proc.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(t);
  };
  return {
    name,
    proc,
    pid: proc.pid ?? -1,
    exited,
    alive,
    output: () => lines.join("\n"),
    kill,
    async stop(graceMs = 5000) {
      if (!alive()) return ended ?? "not running";
      await kill("SIGTERM", graceMs);
      return ended ?? "exited";
    },
  };
}

/** Runs a TypeScript file with this Node and tsx's loader (no npx process in between). */
export function spawnTs(name: string, file: string, args: string[], o: SpawnOptions = {}): Child {
  return spawnChild(name, process.execPath, ["--import", "tsx", file, ...args], o);
}

/** Polls `url` until it answers `ok(status)` (default 2xx); fails with the child's output if it exits or times out. */
export async function waitHttp(
  child: Child,
  url: string,
  o: { headers?: Record<string, string>; ok?: (status: number) => boolean; timeoutMs?: number } = {},
): Promise<void> {
  const timeoutMs = o.timeoutMs ?? 15_000;
  const ok = o.ok ?? ((s: number) => s >= 200 && s < 300);
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && child.alive()) {
    try {
      const r = await request(url, { headers: o.headers, headersTimeout: 1000, bodyTimeout: 1000 });
      await r.body.dump();
      if (ok(r.statusCode)) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  const why = child.alive() ? `not ready after ${timeoutMs} ms` : "exited";
  throw new Error(`${child.name} ${why} (${url}). Its output:\n${child.output().slice(-3000)}`);
}

export interface NodeProc extends Child {
  /** http://127.0.0.1:<port> it listens on. */
  url: string;
  port: number;
  env: Record<string, string>;
}

let warnedStale = false;

/** The bundle under test: FAULTS_ENTRY (e.g. a patched copy to compare), else dist/node.js, which must exist. */
export function nodeEntry(): string {
  const entry = process.env.FAULTS_ENTRY;
  if (entry) return entry;
  const stale = bundleStaleness();
  if (stale === "missing")
    throw new Error(`${NODE_BUNDLE} is missing: run \`npm run build\` first (npm test does it).`);
  if (stale && !warnedStale) {
    warnedStale = true;
    console.warn(`${stale} is newer than dist/node.js; these tests run the old bundle (run \`npm run build\`).`);
  }
  return NODE_BUNDLE;
}

/**
 * Starts `node dist/node.js` with exactly `env` (plus PATH) and resolves once it printed its `rinha:` line.
 * PORT defaults to 0 (any free port) and HOST to 127.0.0.1.
 */
export async function startNode(name: string, env: Record<string, string>, timeoutMs = 30_000): Promise<NodeProc> {
  const full: Record<string, string> = { PORT: "0", HOST: "127.0.0.1", ...env };
  const child = spawnChild(name, process.execPath, [nodeEntry()], { env: full });
  const url = await new Promise<string>((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => fail(`no "rinha:" line after ${timeoutMs} ms`), timeoutMs);
    const fail = (why: string) => {
      clearTimeout(timer);
      if (child.alive()) child.proc.kill("SIGKILL");
      reject(new Error(`${name} did not start: ${why}. Its output:\n${child.output().slice(-3000)}`));
    };
    child.proc.stdout!.on("data", (b: Buffer) => {
      buf += String(b);
      const m = /^rinha: .*\blisten=(http:\/\/\S+)/m.exec(buf);
      if (m) {
        clearTimeout(timer);
        buf = "";
        resolve(m[1]!);
      }
    });
    void child.exited.then(({ code, signal }) => fail(`exited (code ${code}, signal ${signal})`));
  });
  return { ...child, url, port: Number(new URL(url).port), env: full };
}

/** SIGKILLs every child still running and waits for them (afterEach). */
export async function killAll(): Promise<void> {
  const left = [...children];
  for (const c of left) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await Promise.all(
    left.map(
      (c) =>
        new Promise<void>((r) => {
          if (c.exitCode !== null || c.signalCode !== null) return r();
          c.once("exit", () => r());
        }),
    ),
  );
}

/** Cleanup steps run in reverse order; every step runs even when an earlier one fails; then killAll(). */
export class Teardown {
  private steps: Array<() => unknown> = [];
  add(step: () => unknown) {
    this.steps.push(step);
  }
  async run() {
    const steps = this.steps.reverse();
    this.steps = [];
    for (const s of steps) {
      try {
        await s();
      } catch (err) {
        console.error(`teardown: ${String(err)}`);
      }
    }
    await killAll();
  }
}

export const rand = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

/** Peak resident set size of a process so far (Linux /proc), in bytes. */
export function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** The fields of /proc/<pid>/stat after "pid (comm) ": [0] is field 3 (state), [1] the parent pid, ... */
export function procStat(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** CPU time (user + system) a process has used so far, in seconds (Linux /proc). */
export function cpuSeconds(pid: number): number {
  const fields = procStat(pid);
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100 on Linux)
}
