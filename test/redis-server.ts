// Gives tests (and benchmarks) a Redis: REDIS_URL when set, else a throwaway redis-server on a free port.
// A Redis that cannot be had is an error, never a skip.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { createClient } from "redis";

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

export async function startRedis(opts: StartRedisOptions = {}): Promise<TestRedis> {
  const envUrl = process.env.REDIS_URL;
  if ((opts.useEnv ?? true) && envUrl) {
    await ping(envUrl, 2000).catch((err) => {
      throw new Error(`REDIS_URL=${envUrl} does not answer PING (${String(err)}). Start Redis or unset REDIS_URL to use a throwaway redis-server.`);
    });
    return { url: envUrl, owned: false, stop: async () => {} };
  }
  const port = await freePort();
  const bin = process.env.REDIS_SERVER_BIN ?? "redis-server";
  const child = spawn(bin, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...(opts.args ?? [])], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d) => { output += String(d); });
  child.stderr?.on("data", (d) => { output += String(d); });
  const exited = new Promise<string>((resolve) => {
    child.on("error", (err) => resolve(`cannot run ${bin}: ${err.message}`));
    child.on("exit", (code, signal) => resolve(`${bin} exited (code ${code}, signal ${signal})`));
  });
  const kill = () => { if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL"); };
  process.once("exit", kill); // never leave a server behind, even when a test run aborts

  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await Promise.race([ping(url, 500).then(() => true, () => false), exited.then(() => false)]);
    if (up) break;
    const gone = child.exitCode !== null || child.signalCode !== null ? await exited : undefined;
    if (gone || Date.now() > deadline) {
      kill();
      throw new Error(`could not start a throwaway redis-server on port ${port}: ${gone ?? "no PING answer in 10 s"}.\n${output.trim()}\n` +
        "Install redis-server (apt-get install redis-server), or set REDIS_URL to a Redis you own.");
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    owned: true,
    stop: async () => {
      process.removeListener("exit", kill);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      kill();
    },
  };
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

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}
