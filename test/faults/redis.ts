// A redis-server of our own that can be crashed (SIGKILL) and started again on the same port.
// With `persist`, it keeps an append-only file fsynced on every write in a temp folder, so a restart
// comes back with its data; without it (the contest setup: --save "" --appendonly no) it comes back empty.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, sleep } from "./procs";

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

const servers = new Set<ChildProcess>();
process.once("exit", () => { for (const c of servers) c.kill("SIGKILL"); });

export async function ownRedis(opts: { persist?: boolean } = {}): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "faults-redis-"));
  const bin = process.env.REDIS_SERVER_BIN ?? "redis-server";
  const args = [
    "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir, "--daemonize", "no",
    ...(opts.persist ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]),
  ];
  let child: ChildProcess | undefined;
  let output = "";
  const running = () => !!child && child.exitCode === null && child.signalCode === null;

  async function start() {
    if (running()) return;
    output = "";
    const c = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    child = c;
    servers.add(c);
    c.stdout!.on("data", (d) => { output = (output + String(d)).slice(-4000); });
    c.stderr!.on("data", (d) => { output = (output + String(d)).slice(-4000); });
    c.once("exit", () => servers.delete(c));
    c.once("error", (err) => { output += `\ncannot run ${bin}: ${err.message}`; });
    const until = Date.now() + 15_000;
    while (!(await pong(port))) {
      if (!running() || Date.now() > until) {
        if (running()) c.kill("SIGKILL");
        throw new Error(`redis-server on port ${port} did not come up: ${output.trim()}\n` +
          "Install redis-server (apt-get install redis-server) or set REDIS_SERVER_BIN.");
      }
      await sleep(30);
    }
  }

  async function crash() {
    const c = child;
    if (!c || !running()) return;
    const gone = new Promise<void>((r) => c.once("exit", () => r()));
    c.kill("SIGKILL");
    await gone;
  }

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
    const done = (ok: boolean) => { s.destroy(); resolve(ok); };
    s.setTimeout(500, () => done(false));
    s.once("error", () => done(false));
    s.once("connect", () => s.write("PING\r\n"));
    s.on("data", (d) => {
      buf += String(d);
      if (buf.includes("\r\n")) done(buf.startsWith("+PONG"));
    });
  });
}
