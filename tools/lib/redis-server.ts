// Redis for tests and benchmarks: REDIS_URL when it is set, or a throwaway redis-server of our own on a free
// port (startRedis); or one that a fault test can crash and start again on the same port (ownRedis).
// A Redis that cannot be had is an error, never a skip. Servers we start die with this process.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient } from "redis";
import { freePort } from "./ports";

export interface TestRedis {
  url: string;
  /** True when we started it (and stop() kills it). */
  owned: boolean;
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  /** Use REDIS_URL when it is set (default true). Benchmarks pass false so they never fill a shared Redis. */
  useEnv?: boolean;
  /** Extra redis-server arguments. */
  args?: string[];
}

const servers = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of servers) c.kill("SIGKILL");
});

const BIN = () => process.env.REDIS_SERVER_BIN ?? "redis-server";
const INSTALL_HINT = "Install redis-server (apt-get install redis-server), or set REDIS_SERVER_BIN or REDIS_URL.";

/** Spawns redis-server on 127.0.0.1:`port` and resolves once it answers PONG; kills it if it never does. */
async function spawnServer(port: number, args: string[]): Promise<{ child: ChildProcess; exited: Promise<void> }> {
  const bin = BIN();
  const child = spawn(bin, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  servers.add(child);
  let output = "";
  const keep = (d: Buffer) => {
    output = (output + String(d)).slice(-4000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<void>((resolve) => {
    child.once("error", (err) => {
      output += `\ncannot run ${bin}: ${err.message}`;
      servers.delete(child);
      resolve();
    });
    child.once("exit", () => {
      servers.delete(child);
      resolve();
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null && servers.has(child);
  const until = Date.now() + 15_000;
  while (!(await pong(port))) {
    if (!running() || Date.now() > until) {
      if (running()) child.kill("SIGKILL");
      throw new Error(
        `redis-server on port ${port} did not come up: ${output.trim() || "no PONG in 15 s"}\n${INSTALL_HINT}`,
      );
    }
    await sleep(30);
  }
  return { child, exited };
}

async function kill(s: { child: ChildProcess; exited: Promise<void> }, signal: NodeJS.Signals) {
  if (s.child.exitCode !== null || s.child.signalCode !== null || !servers.has(s.child)) return;
  s.child.kill(signal);
  if (signal === "SIGKILL") return s.exited;
  await Promise.race([s.exited, sleep(3000)]);
  if (servers.has(s.child)) s.child.kill("SIGKILL");
  await s.exited;
}

export async function startRedis(opts: StartRedisOptions = {}): Promise<TestRedis> {
  const envUrl = process.env.REDIS_URL;
  if ((opts.useEnv ?? true) && envUrl) {
    await ping(envUrl, 2000).catch((err) => {
      throw new Error(
        `REDIS_URL=${envUrl} does not answer PING (${String(err)}). Start Redis or unset REDIS_URL to use a ` +
          `throwaway redis-server.`,
      );
    });
    return { url: envUrl, owned: false, stop: async () => {} };
  }
  const port = await freePort();
  const server = await spawnServer(port, ["--appendonly", "no", ...(opts.args ?? [])]);
  return { url: `redis://127.0.0.1:${port}`, owned: true, stop: () => kill(server, "SIGTERM") };
}

export interface OwnRedis {
  url: string;
  port: number;
  running(): boolean;
  /** Starts it (again) on the same port and waits for PONG. */
  start(): Promise<void>;
  /** SIGKILL: no shutdown save, no goodbye to clients, like a crash. */
  crash(): Promise<void>;
  /** Stops it and removes its folder. */
  close(): Promise<void>;
}

/**
 * A redis-server of our own that can be crashed (SIGKILL) and started again on the same port. With
 * `persist`, it keeps an append-only file fsynced on every write in a temp folder, so a restart comes back
 * with its data; without it (the contest setup: --save "" --appendonly no) it comes back empty.
 */
export async function ownRedis(opts: { persist?: boolean } = {}): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "faults-redis-"));
  const args = [
    "--dir",
    dir,
    "--daemonize",
    "no",
    ...(opts.persist ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]),
  ];
  let server: Awaited<ReturnType<typeof spawnServer>> | undefined;
  const running = () => !!server && servers.has(server.child);
  const crash = async () => {
    if (server) await kill(server, "SIGKILL");
  };
  const start = async () => {
    if (!running()) server = await spawnServer(port, args);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    running,
    start,
    crash,
    async close() {
      await crash();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** True when the server answers PING with PONG (not -LOADING while it replays its file). */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    let buf = "";
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once("error", () => done(false));
    s.once("connect", () => s.write("PING\r\n"));
    s.on("data", (d) => {
      buf += String(d);
      if (buf.includes("\r\n")) done(buf.startsWith("+PONG"));
    });
  });
}

async function ping(url: string, timeoutMs: number): Promise<void> {
  const c = createClient({ url, socket: { connectTimeout: timeoutMs, reconnectStrategy: false } });
  c.on("error", () => {});
  try {
    await c.connect();
    await c.ping();
  } finally {
    if (c.isOpen) c.destroy();
  }
}
