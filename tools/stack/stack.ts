// The compose topology as local processes: `startStack(opts)` starts every service of docker-compose.yml
// (redis-server, caddy, the Node entry per `build:` service), optionally the two processor emulators, applies
// each service's CPU / memory limit through cgroups when it can, waits until /healthz answers through the load
// balancer, and returns a handle whose stop() leaves nothing behind.

import { type ChildProcess, spawn } from "node:child_process";
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  rmdirSync,
  rmSync,
  type WriteStream,
  writeFileSync,
} from "node:fs";
import http from "node:http";
import net from "node:net";
import { dirname, join, resolve } from "node:path";
import { freePort, portInUse } from "../lib/ports";
import { ensureBuilt, NODE_BUNDLE, REPO_DIR } from "../lib/repo";
import {
  type CgroupManager,
  type GroupStats,
  type Limits,
  openCgroups,
  removeStaleGroups,
  type ServiceGroup,
  wrapArgv,
} from "./cgroup";
import { type Compose, loadCompose, MiB } from "./compose";
import { type Kind, kindOf, listenOf, type ProcessPlan, planService } from "./plan";
import { decideRestart, type RestartPolicy } from "./restart";
import { checkCompose } from "./rules";

export const PROCESSOR_HOSTS = {
  default: "payment-processor-default",
  fallback: "payment-processor-fallback",
} as const;
/** The preview's fees (docs/contest.md); the final used 0.07 / 0.10. */
export const PREVIEW_FEES = { default: 0.05, fallback: 0.15 } as const;

export interface StackOptions {
  /** Default: docker-compose.yml at the repo root. Several files merge like `docker compose -f a -f b`. */
  composeFile?: string | string[];
  /** Start the two processor emulators (not under the stack's limits: they stand for external services). */
  withEmulators?: boolean;
  /** Port the load balancer publishes here. Default: the one compose publishes (9999). */
  port?: number;
  /** Where the processors are (or the emulators go). Default 8001 / 8002. */
  processorPorts?: { default: number; fallback: number };
  /** Emulator fees; also exported as FEE_DEFAULT / FEE_FALLBACK for compose interpolation. Default: preview's. */
  fees?: { default?: number; fallback?: number };
  /** Emulator program; `--port P --fee F` are appended. Default: tsx tools/emulator/main.ts. */
  emulatorCommand?: string[];
  /** Node entry for `build:` services. Default dist/node.js, rebuilt first when missing or stale. */
  entry?: string;
  /** Run `npm run build` when dist/node.js is missing or older than the sources. Default true. */
  build?: boolean;
  /** Apply cgroup limits when possible. Default true. */
  limits?: boolean;
  /** Extra variables for compose interpolation (`${FEE_DEFAULT:-0.05}`); process.env is used too. */
  env?: Record<string, string>;
  /** Run directory (sockets, logs, generated Caddyfile). Default <repo>/.stack/run-<pid>. Removed on stop. */
  runDir?: string;
  keepRunDir?: boolean;
  readyTimeoutMs?: number;
  /** Launcher messages. Default: console.log. */
  log?: (message: string) => void;
  /** Each line a service prints. Default: dropped (they are in <runDir>/logs/<name>.log). */
  onLine?: (service: string, line: string) => void;
  /** Called when a service exits while the stack is up and its `restart:` policy does not bring it back. */
  onExit?: (service: RunningService) => void;
  /** Apply each service's compose `restart:` policy (restart with backoff). Default true. */
  restart?: boolean;
}

export interface RunningService {
  name: string;
  kind: Kind | "emulator";
  pid: number;
  argv: string[];
  env: Record<string, string>;
  /** "127.0.0.1:port" or "unix:<path>". */
  address: string;
  /** Human summary of limits and whether they are enforced. */
  limits: string;
  cpus?: number;
  memoryBytes?: number;
  cgroup?: ServiceGroup;
  /** Its compose `restart:` policy ("no" for the emulators, and for all with `restart: false`). */
  restartPolicy: RestartPolicy;
  /** How many times the launcher restarted it after an exit it did not ask for. */
  restarts: number;
  /** The last exit; the current process's pid is `pid`. */
  exit?: { code: number | null; signal: NodeJS.Signals | null };
}

export interface StopReport {
  services: { name: string; pid: number; restarts: number; exit?: RunningService["exit"]; stats?: GroupStats }[];
  problems: string[];
}

export interface Stack {
  url: string;
  runDir: string;
  services: RunningService[];
  limitsApplied: boolean;
  /** Why limits are not applied (when they are not). */
  limitsReason?: string;
  /** cgroup directories created (empty when limits are not applied). */
  cgroupDirs: string[];
  stats(): Record<string, GroupStats | undefined>;
  logTail(service: string, lines?: number): string;
  stop(): Promise<StopReport>;
}

// ---------------------------------------------------------------------------------------------------------------

function httpGet(target: { port?: number; socket?: string }, path: string, timeoutMs = 1000): Promise<number> {
  return new Promise((ok, fail) => {
    const req = http.get(
      { host: "127.0.0.1", port: target.port, socketPath: target.socket, path, timeout: timeoutMs, agent: false },
      (res) => {
        res.resume();
        res.on("end", () => ok(res.statusCode ?? 0));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", fail);
  });
}

function redisPing(target: { port?: number; socket?: string }): Promise<boolean> {
  return new Promise((ok) => {
    const socket = target.socket ? net.connect(target.socket) : net.connect({ port: target.port!, host: "127.0.0.1" });
    let data = "";
    socket.setTimeout(1000, () => socket.destroy());
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (d) => {
      data += d.toString();
      if (data.includes("\r\n")) {
        socket.destroy();
        ok(data.startsWith("+PONG"));
      }
    });
    socket.on("error", () => ok(false));
    socket.on("close", () => ok(false));
  });
}

function tcpOpen(port: number): Promise<boolean> {
  return portInUse(port);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function which(program: string): string | undefined {
  if (program.includes("/")) return existsSync(program) ? program : undefined;
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const p = join(dir, program);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

const INSTALL_HINT: Record<string, string> = {
  caddy: "install it (Debian: apt-get install caddy)",
  "redis-server": "install it (Debian: apt-get install redis-server)",
};

function fmtLimits({ cpus, memoryBytes, cpuShares }: Limits): string {
  const parts = [];
  if (cpus !== undefined) parts.push(`cpu ${cpus.toFixed(2)}`);
  if (cpuShares !== undefined) parts.push(`shares ${cpuShares}`);
  if (memoryBytes !== undefined) parts.push(`mem ${Math.round(memoryBytes / MiB)}MB`);
  return parts.join(" ") || "no limits declared";
}

// ---------------------------------------------------------------------------------------------------------------

interface Proc {
  service: RunningService;
  child: ChildProcess;
  exited: Promise<void>;
  tail: string[];
  logFile: WriteStream;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const log = opts.log ?? ((m: string) => console.log(m));
  const composeFiles = (
    Array.isArray(opts.composeFile) ? opts.composeFile : [opts.composeFile ?? join(REPO_DIR, "docker-compose.yml")]
  ).map((f) => resolve(f));
  if (composeFiles.length === 0) throw new Error("composeFile: give at least one compose file");
  const processorPorts = opts.processorPorts ?? { default: 8001, fallback: 8002 };
  const fees = {
    default: opts.fees?.default ?? PREVIEW_FEES.default,
    fallback: opts.fees?.fallback ?? PREVIEW_FEES.fallback,
  };
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;

  // Interpolation env: the process's, the emulators' fees when we start them (so the router and the
  // emulators agree), then explicit overrides.
  const interpolationEnv: Record<string, string | undefined> = { ...process.env };
  if (opts.withEmulators || opts.fees) {
    interpolationEnv.FEE_DEFAULT = String(fees.default);
    interpolationEnv.FEE_FALLBACK = String(fees.fallback);
  }
  Object.assign(interpolationEnv, opts.env);
  const compose: Compose = loadCompose(composeFiles, interpolationEnv);
  for (const v of checkCompose(compose)) log(`warning: compose breaks a contest rule: ${v.message}`);

  const lb = compose.services.find((s) => kindOf(s) === "caddy");
  const published = lb?.ports[0]?.published ?? lb?.ports[0]?.target ?? 9999;
  const lbPort = opts.port ?? published;
  if (await portInUse(lbPort))
    throw new Error(`port ${lbPort} is already in use (another stack?); pass --port / opts.port`);
  for (const [which_, port] of Object.entries(processorPorts)) {
    if (opts.withEmulators && (await portInUse(port))) {
      throw new Error(
        `emulator port ${port} (${which_}) is already in use; pass --processor-ports / opts.processorPorts`,
      );
    }
  }

  const needsNode = compose.services.some((s) => kindOf(s) === "node");
  const entry = opts.entry ? resolve(opts.entry) : needsNode && opts.build !== false ? ensureBuilt(log) : NODE_BUNDLE;
  if (needsNode && !existsSync(entry)) throw new Error(`node entry ${entry} does not exist; run npm run build`);
  for (const s of compose.services) {
    const program = kindOf(s) === "redis" ? "redis-server" : kindOf(s) === "caddy" ? "caddy" : undefined;
    if (program && !which(program))
      throw new Error(`${program} not found on PATH (service ${s.name}): ${INSTALL_HINT[program]}`);
  }

  if (!opts.runDir) removeStaleRunDirs(log);
  const runDir = resolve(opts.runDir ?? join(REPO_DIR, ".stack", `run-${process.pid}-${Date.now().toString(36)}`));
  for (const d of ["logs", "volumes", "redis", "caddy/home"]) mkdirSync(join(runDir, d), { recursive: true });
  for (const name of Object.keys(compose.volumes)) mkdirSync(join(runDir, "volumes", name), { recursive: true });

  let plans: ProcessPlan[] = [];
  let cgroups: CgroupManager | undefined;
  let limitsReason: string | undefined;
  const procs: Proc[] = [];
  let stopping = false;
  const pendingRestarts = new Set<NodeJS.Timeout>();
  const emergencyKill = () => {
    for (const p of procs) {
      try {
        process.kill(-p.service.pid, "SIGKILL");
      } catch {}
    }
    cgroups?.removeAll();
  };
  process.on("exit", emergencyKill);

  const spawnProc = (
    name: string,
    kind: RunningService["kind"],
    argv: string[],
    env: Record<string, string>,
    address: string,
    limits: Limits | undefined,
    restartPolicy: RestartPolicy = "no",
  ): Proc => {
    let group: ServiceGroup | undefined;
    let limitText = "not limited (external service)";
    if (limits) {
      if (cgroups) {
        group = cgroups.create(name, limits);
        limitText = `${fmtLimits(limits)} enforced`;
      } else limitText = `${fmtLimits(limits)} NOT enforced`;
    }
    const service: RunningService = {
      name,
      kind,
      pid: 0,
      argv,
      env,
      address,
      limits: limitText,
      cpus: limits?.cpus,
      memoryBytes: limits?.memoryBytes,
      cgroup: group,
      restartPolicy: opts.restart === false ? "no" : restartPolicy,
      restarts: 0,
    };
    const tail: string[] = [];
    const logFile = createWriteStream(join(runDir, "logs", `${name}.log`));
    const proc: Proc = {
      service,
      child: undefined as unknown as ChildProcess,
      exited: Promise.resolve(),
      tail,
      logFile,
    };
    let streak = 0;
    const launch = () => {
      const fullArgv = wrapArgv(group?.procsFiles ?? [], argv);
      // detached: own process group, so stop() can signal the service and anything it forked.
      const child = spawn(fullArgv[0]!, fullArgv.slice(1), {
        cwd: REPO_DIR,
        env,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      });
      if (child.pid === undefined) throw new Error(`could not start ${name}: ${argv.join(" ")}`);
      const startedAt = Date.now();
      service.pid = child.pid;
      service.exit = undefined;
      const onData = (stream: NodeJS.ReadableStream) => {
        let partial = "";
        stream.on("data", (chunk: Buffer) => {
          logFile.write(chunk);
          const lines = (partial + chunk.toString()).split("\n");
          partial = lines.pop() ?? "";
          for (const line of lines) {
            tail.push(line);
            if (tail.length > 200) tail.shift();
            opts.onLine?.(name, line);
          }
        });
      };
      onData(child.stdout!);
      onData(child.stderr!);
      proc.child = child;
      proc.exited = new Promise<void>((done) =>
        child.once("exit", (code, signal) => {
          service.exit = { code, signal };
          done();
          if (stopping) return;
          const how = signal ?? `code ${code}`;
          const decision = decideRestart(service.restartPolicy, service.exit, streak, Date.now() - startedAt);
          if (!decision.restart) {
            log(`service ${name} (pid ${child.pid}) exited: ${how}; ${decision.why}\n${tail.slice(-15).join("\n")}`);
            opts.onExit?.(service);
            return;
          }
          streak = decision.streak;
          service.restarts++;
          log(
            `service ${name} (pid ${child.pid}) exited: ${how}; restarting in ${decision.delayMs} ms ` +
              `(restart ${service.restarts}, policy ${service.restartPolicy})\n${tail.slice(-5).join("\n")}`,
          );
          // The exit stands until the new process is up, so stop() during the delay finds nothing to stop.
          const timer = setTimeout(() => {
            pendingRestarts.delete(timer);
            if (stopping) return;
            try {
              launch();
              log(`service ${name} restarted: pid ${service.pid}`);
            } catch (err) {
              log(`service ${name}: restart failed: ${(err as Error).message}`);
              opts.onExit?.(service);
            }
          }, decision.delayMs);
          pendingRestarts.add(timer);
        }),
      );
      child.once("error", (err) => log(`service ${name}: ${err.message}`));
    };
    launch();
    procs.push(proc);
    return proc;
  };

  const waitFor = async (proc: Proc, what: string, check: () => Promise<boolean>) => {
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (proc.service.exit) {
        throw new Error(
          `${proc.service.name} exited during start ` +
            `(${proc.service.exit.signal ?? `code ${proc.service.exit.code}`}):\n${proc.tail.slice(-20).join("\n")}`,
        );
      }
      if (await check().catch(() => false)) return;
      if (Date.now() > deadline) {
        throw new Error(
          `${proc.service.name}: ${what} not ready after ${readyTimeoutMs} ms:\n${proc.tail.slice(-20).join("\n")}`,
        );
      }
      await sleep(50);
    }
  };

  const describe = (p: Proc) =>
    log(
      `  ${p.service.name.padEnd(18)} pid ${String(p.service.pid).padEnd(7)} ${p.service.address.padEnd(24)} ` +
        `${p.service.limits}`,
    );

  // The kernel keeps a peak that includes page cache only; anonymous memory's peak is sampled here.
  const sampler = setInterval(() => {
    for (const p of procs) p.service.cgroup?.sample();
  }, 250);
  sampler.unref();

  const stop = once(async (): Promise<StopReport> => {
    stopping = true;
    clearInterval(sampler);
    for (const t of pendingRestarts) clearTimeout(t);
    const problems: string[] = [];
    const stats = new Map(procs.map((p) => [p.service.name, p.service.cgroup?.stats()]));
    // Reverse start order: the load balancer first, external emulators last.
    for (const p of [...procs].reverse()) {
      const pgid = p.service.pid;
      const signal = (s: NodeJS.Signals) => {
        try {
          process.kill(-pgid, s);
        } catch {}
      };
      if (!p.service.exit) {
        signal("SIGTERM");
        const timedOut = await Promise.race([p.exited.then(() => false), sleep(5000).then(() => true)]);
        if (timedOut) {
          problems.push(`${p.service.name} ignored SIGTERM for 5 s; killed`);
          signal("SIGKILL");
          await p.exited;
        }
      }
      // Anything the service forked that outlived it (same process group).
      if (groupAlive(pgid)) {
        signal("SIGKILL");
        for (let i = 0; i < 100 && groupAlive(pgid); i++) await sleep(20);
        if (groupAlive(pgid)) problems.push(`process group ${pgid} (${p.service.name}) still alive after SIGKILL`);
      }
      p.logFile.end();
    }
    if (cgroups) problems.push(...cgroups.removeAll());
    process.off("exit", emergencyKill);
    if (!opts.keepRunDir) {
      rmSync(runDir, { recursive: true, force: true });
      // The default parent (.stack/) goes too once no other run uses it.
      if (!opts.runDir) {
        try {
          rmdirSync(dirname(runDir));
        } catch {}
      }
    }
    return {
      services: procs.map((p) => ({
        name: p.service.name,
        pid: p.service.pid,
        restarts: p.service.restarts,
        exit: p.service.exit,
        stats: stats.get(p.service.name),
      })),
      problems,
    };
  });

  try {
    const hostPorts = new Map<string, number>();
    for (const s of compose.services) {
      if (kindOf(s) === "caddy") continue;
      for (const p of listenOf(s).ports) hostPorts.set(`${s.name}:${p}`, await freePort());
    }
    const ctx = {
      repoDir: REPO_DIR,
      // As docker compose: paths are relative to the first file's directory.
      composeDir: dirname(composeFiles[0]!),
      runDir,
      hostPorts,
      lbPort,
      externalHosts: {
        [PROCESSOR_HOSTS.default]: processorPorts.default,
        [PROCESSOR_HOSTS.fallback]: processorPorts.fallback,
      },
      entry,
      nodePath: process.execPath,
    };
    plans = compose.services.map((s) => planService(s, compose, ctx));
    for (const p of plans) {
      for (const f of p.files) {
        mkdirSync(dirname(f.path), { recursive: true });
        writeFileSync(f.path, f.content);
      }
    }

    // Limits.
    if (opts.limits === false) limitsReason = "disabled (--no-limits)";
    else {
      for (const dir of removeStaleGroups()) log(`removed a stale cgroup left by a killed launcher: ${dir}`);
      const opened = openCgroups(`rinha-stack-${process.pid}`);
      if ("manager" in opened) cgroups = opened.manager;
      else limitsReason = opened.reason;
    }
    log(
      cgroups
        ? `limits: each service's deploy.resources.limits applied with cgroup v${cgroups.version} ` +
            `(CPU quota per 100 ms period, memory limit) in ${cgroups.location("<service>")}`
        : `limits: NOT applied: ${limitsReason}`,
    );

    // Emulators first: they stand for the contest's processors, which are up before the stack.
    if (opts.withEmulators) {
      const base = opts.emulatorCommand ?? [
        join(REPO_DIR, "node_modules", ".bin", "tsx"),
        join(REPO_DIR, "tools", "emulator", "main.ts"),
      ];
      if (!opts.emulatorCommand && !existsSync(base[1]!))
        throw new Error(`processor emulator ${base[1]} does not exist yet`);
      const started = (["default", "fallback"] as const).map((which_) => {
        const port = processorPorts[which_];
        const argv = [...base, "--port", String(port), "--fee", String(fees[which_])];
        return {
          proc: spawnProc(
            `emulator-${which_}`,
            "emulator",
            argv,
            { ...baseEnvForTools() },
            `127.0.0.1:${port}`,
            undefined,
          ),
          port,
        };
      });
      for (const { proc, port } of started) {
        await waitFor(proc, `port ${port}`, () => tcpOpen(port));
        describe(proc);
      }
    }

    // Services in dependency order; independent ones start together.
    const ready = new Map<string, Promise<void>>();
    const byName = new Map(plans.map((p) => [p.name, p]));
    const startOne = (name: string, path: string[] = []): Promise<void> => {
      const existing = ready.get(name);
      if (existing) return existing;
      if (path.includes(name)) throw new Error(`depends_on cycle: ${[...path, name].join(" -> ")}`);
      const plan = byName.get(name);
      if (!plan) throw new Error(`${path[path.length - 1]} depends on unknown service ${name}`);
      const promise = (async () => {
        await Promise.all(plan.dependsOn.map((d) => startOne(d, [...path, name])));
        const address = plan.address.socket ? `unix:${plan.address.socket}` : `127.0.0.1:${plan.address.port}`;
        const proc = spawnProc(
          plan.name,
          plan.kind,
          plan.argv,
          plan.env,
          address,
          { cpus: plan.cpus, memoryBytes: plan.memoryBytes, cpuShares: plan.cpuShares },
          plan.restart,
        );
        if (plan.kind === "redis") await waitFor(proc, "PING", () => redisPing(plan.address));
        else if (plan.kind === "node")
          await waitFor(proc, "/healthz", async () => (await httpGet(plan.address, "/healthz")) === 200);
        else
          await waitFor(
            proc,
            `/healthz through :${lbPort}`,
            async () => (await httpGet({ port: lbPort }, "/healthz")) === 200,
          );
        describe(proc);
      })();
      ready.set(name, promise);
      return promise;
    };
    await Promise.all(plans.map((p) => startOne(p.name)));
    const dead = procs.find((p) => p.service.exit);
    if (dead) throw new Error(`${dead.service.name} exited during start:\n${dead.tail.slice(-20).join("\n")}`);
  } catch (err) {
    const report = await stop();
    const extra = report.problems.length ? `\n(cleanup: ${report.problems.join("; ")})` : "";
    throw new Error(`${(err as Error).message}${extra}`);
  }

  const services = procs.map((p) => p.service);
  return {
    url: `http://127.0.0.1:${lbPort}`,
    runDir,
    services,
    limitsApplied: cgroups !== undefined,
    limitsReason,
    cgroupDirs: services.flatMap((s) => s.cgroup?.dirs ?? []),
    stats: () => Object.fromEntries(services.map((s) => [s.name, s.cgroup?.stats()])),
    logTail: (name, lines = 30) => (procs.find((p) => p.service.name === name)?.tail ?? []).slice(-lines).join("\n"),
    stop,
  };
}

/** Run directories under .stack/ whose launcher is gone (killed with SIGKILL). */
function removeStaleRunDirs(log: (m: string) => void) {
  const parent = join(REPO_DIR, ".stack");
  let entries: string[] = [];
  try {
    entries = readdirSync(parent);
  } catch {
    return;
  }
  for (const e of entries) {
    const m = /^run-(\d+)-/.exec(e);
    if (!m || processAlive(Number(m[1]))) continue;
    rmSync(join(parent, e), { recursive: true, force: true });
    log(`removed a stale run directory left by a killed launcher: ${join(parent, e)}`);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function baseEnvForTools(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ["PATH", "HOME", "LANG", "TZ", "TMPDIR"]) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  return env;
}

export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}
