// Real backend processes for fault tests: `node dist/node.js` with a given environment, killed by pid.
// Every child is registered so a test can end them all in afterEach (and the exit hook ends them even when
// the test runner itself is torn down).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The bundle under test; FAULTS_ENTRY may point at another build (e.g. a patched copy) to compare. */
export const ENTRY = process.env.FAULTS_ENTRY ?? join(ROOT, "dist", "node.js");

export interface NodeProc {
  name: string;
  pid: number;
  /** http://127.0.0.1:<port> it listens on. */
  url: string;
  port: number;
  env: Record<string, string>;
  /** Resolves when the process has exited (code or signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  /** Last lines of its stdout + stderr. */
  output(): string;
  /** Sends the signal and waits for the exit (SIGKILL after `graceMs` for a softer signal). */
  kill(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

let warnedStale = false;

/** dist/node.js must exist (`npm run build`); warns once when a source file is newer than it. */
export function checkEntry(): void {
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run \`npm run build\` first (npm test does it).`);
  if (warnedStale || process.env.FAULTS_ENTRY) return;
  const built = statSync(ENTRY).mtimeMs;
  const newer = (dir: string): string | undefined => {
    for (const f of readdirSync(join(ROOT, dir), { recursive: true }) as string[]) {
      if (f.endsWith(".ts") && statSync(join(ROOT, dir, f)).mtimeMs > built) return join(dir, f);
    }
    return undefined;
  };
  const stale = newer("handlers") ?? newer("adapters");
  if (stale) {
    warnedStale = true;
    console.warn(`faults: ${stale} is newer than dist/node.js; these tests run the old bundle (run \`npm run build\`).`);
  }
}

/**
 * Starts `node dist/node.js` with exactly `env` (plus PATH) and resolves once it printed its `rinha:` line.
 * PORT defaults to 0 (any free port) and HOST to 127.0.0.1.
 */
export async function startNode(name: string, env: Record<string, string>, timeoutMs = 30_000): Promise<NodeProc> {
  checkEntry();
  const full: Record<string, string> = { PORT: "0", HOST: "127.0.0.1", ...env };
  const proc = spawn(process.execPath, [ENTRY], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...full },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(proc);
  const lines: string[] = [];
  const keep = (prefix: string) => (b: Buffer) => {
    for (const l of String(b).split("\n")) if (l) lines.push(prefix + l);
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  proc.stderr!.on("data", keep("! "));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once("exit", (code, signal) => { children.delete(proc); resolve({ code, signal }); });
    proc.once("error", (err) => { lines.push(`! spawn error: ${err.message}`); });
  });
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  const output = () => lines.join("\n");

  const url = await new Promise<string>((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => fail(`no "rinha:" line after ${timeoutMs} ms`), timeoutMs);
    const fail = (why: string) => {
      clearTimeout(timer);
      if (alive()) proc.kill("SIGKILL");
      reject(new Error(`${name} did not start: ${why}. Its output:\n${output().slice(-3000)}`));
    };
    proc.stdout!.on("data", (b: Buffer) => {
      keep("")(b);
      buf += String(b);
      const m = /^rinha: .*\blisten=(http:\/\/\S+)/m.exec(buf);
      if (m) { clearTimeout(timer); buf = ""; resolve(m[1]!); }
    });
    void exited.then(({ code, signal }) => fail(`exited (code ${code}, signal ${signal})`));
  });

  return {
    name, pid: proc.pid!, url, port: Number(new URL(url).port), env: full, exited, alive, output,
    async kill(signal = "SIGKILL", graceMs = 5000) {
      if (!alive()) return;
      proc.kill(signal);
      if (signal !== "SIGKILL") {
        const t = setTimeout(() => alive() && proc.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(t);
      } else {
        await exited;
      }
    },
  };
}

/** SIGKILLs every backend process still running (afterEach). */
export async function killAllNodes(): Promise<void> {
  const left = [...children];
  for (const c of left) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await Promise.all(left.map((c) => new Promise<void>((r) => {
    if (c.exitCode !== null || c.signalCode !== null) return r();
    c.once("exit", () => r());
  })));
}

/** A TCP port free right now on 127.0.0.1 (for a process that must come back on the same port). */
export { freePort } from "../redis-server";

/** Cleanup steps run in reverse order; every step runs even when an earlier one fails. */
export class Teardown {
  private steps: Array<() => unknown> = [];
  add(step: () => unknown) { this.steps.push(step); }
  async run() {
    const steps = this.steps.reverse();
    this.steps = [];
    for (const s of steps) {
      try { await s(); } catch (err) { console.error(`teardown: ${String(err)}`); }
    }
    await killAllNodes();
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const rand = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));
