// From compose services to local processes: which program each service runs, what it listens on, and how
// container-world names (service:port, volume paths) become loopback ports and directories under the run dir.
// Pure apart from reading the Caddyfile; stack.ts does the spawning.

import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import type { Compose, Service } from "./compose";
import type { RestartPolicy } from "./restart";

export type Kind = "caddy" | "redis" | "node";

/** What a service listens on inside its container. */
export interface Listen {
  ports: number[];
  socket?: string;
}

export function kindOf(service: Service): Kind {
  if (service.build !== undefined) return "node";
  const image = service.image ?? "";
  if (/(^|\/)redis(:|@|$)/.test(image)) return "redis";
  if (/(^|\/)caddy(:|@|$)/.test(image)) return "caddy";
  throw new Error(
    `service ${service.name}: image ${JSON.stringify(image)} has no local equivalent; ` +
      "the launcher runs `build:` services as the Node entry, and redis / caddy images as redis-server / caddy",
  );
}

const DEFAULT_CADDY_COMMAND = ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"];

function argValue(argv: string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

export function commandOf(service: Service): string[] {
  const kind = kindOf(service);
  if (service.command) return service.command;
  if (kind === "redis") return ["redis-server"];
  if (kind === "caddy") return DEFAULT_CADDY_COMMAND;
  return ["node", "dist/node.js"]; // the Dockerfile's CMD
}

/** Container-side listen addresses, from the same settings the programs read. */
export function listenOf(service: Service): Listen {
  const kind = kindOf(service);
  if (kind === "node") {
    const socket = service.environment.SOCKET_PATH;
    return socket ? { ports: [], socket } : { ports: [Number(service.environment.PORT ?? 9999)] };
  }
  if (kind === "redis") {
    const argv = commandOf(service);
    const port = Number(argValue(argv, "--port") ?? 6379);
    return { ports: port > 0 ? [port] : [], socket: argValue(argv, "--unixsocket") };
  }
  return { ports: service.ports.map((p) => p.target) };
}

export interface PlanContext {
  repoDir: string;
  composeDir: string;
  runDir: string;
  /** Host port for each `service:containerPort` (TCP listeners of node and redis services). */
  hostPorts: Map<string, number>;
  /** Host port the load balancer publishes (`--port`). */
  lbPort: number;
  /** Hostnames that are not services (the processors) -> loopback port, whatever port was written. */
  externalHosts: Record<string, number>;
  /** Node entry for `build:` services, absolute. */
  entry: string;
  nodePath: string;
}

export interface ProcessPlan {
  name: string;
  kind: Kind;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** Where it answers on this host. */
  address: { port?: number; socket?: string };
  /** Files to write before start (the rewritten Caddyfile). */
  files: { path: string; content: string }[];
  dependsOn: string[];
  restart: RestartPolicy;
  cpus?: number;
  memoryBytes?: number;
  cpuShares?: number;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Host path of each mount target: named volumes under the run dir, bind mounts relative to the compose file. */
export function mountMap(service: Service, ctx: Pick<PlanContext, "composeDir" | "runDir">): [string, string][] {
  return service.mounts
    .filter((m) => m.source !== undefined && m.kind !== "tmpfs")
    .map((m): [string, string] =>
      m.kind === "bind"
        ? [m.target, resolve(ctx.composeDir, m.source!)]
        : [m.target, join(ctx.runDir, "volumes", m.source!)],
    )
    .sort((a, b) => b[0].length - a[0].length);
}

/**
 * Rewrites container paths and addresses in one string for one service: mount targets -> host paths, and
 * `service:port` / `processor-host:port` -> 127.0.0.1:<host port>. Throws on a reference to a service port
 * nothing listens on, so a typo fails at start rather than as a timeout.
 */
export function makeRewriter(service: Service, compose: Compose, ctx: PlanContext): (text: string) => string {
  const mounts = mountMap(service, ctx);
  const pathRe = mounts.length
    ? new RegExp(`(?<![\\w.-])(${mounts.map(([t]) => escapeRe(t)).join("|")})(?=$|[^\\w.-])`, "g")
    : undefined;
  const names = new Set(compose.services.map((s) => s.name));
  const hostRe = /(?<![\w.-])([A-Za-z0-9][A-Za-z0-9_.-]*):(\d+)(?!\d)/g;
  return (text) => {
    let out = pathRe ? text.replace(pathRe, (t) => mounts.find(([target]) => target === t)![1]) : text;
    out = out.replace(hostRe, (match, host: string, port: string) => {
      if (host in ctx.externalHosts) return `127.0.0.1:${ctx.externalHosts[host]}`;
      if (!names.has(host)) return match;
      const mapped = ctx.hostPorts.get(`${host}:${port}`);
      if (mapped === undefined) {
        throw new Error(
          `service ${service.name} refers to ${host}:${port}, but ${host} does not listen on port ${port}`,
        );
      }
      return `127.0.0.1:${mapped}`;
    });
    return out;
  };
}

/**
 * The local Caddyfile: container paths and upstream addresses rewritten, the published port replaced by
 * `lbPort`, relative imports made absolute (the file moves to the run dir), comments dropped.
 */
export function localCaddyfile(
  text: string,
  sourceFile: string,
  rewrite: (t: string) => string,
  publishedTargets: number[],
  lbPort: number,
): string {
  // Comments go first: they may mention addresses (e.g. a TCP alternative) that nothing listens on here.
  let out = rewrite(text.replace(/^[ \t]*#.*\n/gm, "").replace(/[ \t]+#.*$/gm, ""));
  out = out.replace(
    /^(\s*(?:https?:\/\/)?(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::\])?):(\d+)(?=\s*(?:\{|,|$))/gm,
    (match, prefix: string, port: string) => (publishedTargets.includes(Number(port)) ? `${prefix}:${lbPort}` : match),
  );
  out = out.replace(/^(\s*import\s+)(\S+)/gm, (match, prefix: string, arg: string) =>
    !isAbsolute(arg) && (arg.includes("/") || arg.includes("*"))
      ? `${prefix}${resolve(dirname(sourceFile), arg)}`
      : match,
  );
  return out;
}

const BASE_ENV_KEYS = ["PATH", "HOME", "LANG", "TZ", "TMPDIR"];

/** A clean environment (no NODE_OPTIONS or test-runner variables leaking in) plus the service's own. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of BASE_ENV_KEYS) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  return env;
}

export function planService(service: Service, compose: Compose, ctx: PlanContext): ProcessPlan {
  const kind = kindOf(service);
  const rewrite = makeRewriter(service, compose, ctx);
  const env = baseEnv();
  for (const [k, v] of Object.entries(service.environment)) env[k] = rewrite(v);
  const listen = listenOf(service);
  const hostPort = (p: number) => {
    const mapped = ctx.hostPorts.get(`${service.name}:${p}`);
    if (mapped === undefined) throw new Error(`no host port allocated for ${service.name}:${p}`);
    return mapped;
  };
  const files: ProcessPlan["files"] = [];
  let argv = commandOf(service);
  let address: ProcessPlan["address"] = {};

  if (kind === "node") {
    argv = argv.map(rewrite);
    if (argv[0] === "node") argv[0] = ctx.nodePath;
    const script = argv.findIndex((a, i) => i > 0 && !a.startsWith("-"));
    if (script > 0) argv[script] = ctx.entry;
    env.NODE_ENV ??= "production"; // as the Dockerfile sets it
    if (listen.socket) address = { socket: rewrite(listen.socket) };
    else {
      address = { port: hostPort(listen.ports[0]!) };
      env.PORT = String(address.port);
    }
  } else if (kind === "redis") {
    argv = argv.map(rewrite);
    const set = (flag: string, value: string) => {
      const i = argv.indexOf(flag);
      if (i >= 0) argv[i + 1] = value;
      else argv.push(flag, value);
    };
    const port = listen.ports[0];
    set("--port", port === undefined ? "0" : String(hostPort(port)));
    set("--bind", "127.0.0.1");
    set("--dir", join(ctx.runDir, "redis"));
    set("--daemonize", "no");
    address = port === undefined ? { socket: rewrite(listen.socket!) } : { port: hostPort(port) };
  } else {
    const configIndex = argv.indexOf("--config");
    if (configIndex < 0) throw new Error(`service ${service.name}: caddy command has no --config`);
    const source = rewrite(argv[configIndex + 1]!);
    let text: string;
    try {
      text = readFileSync(source, "utf8");
    } catch (err) {
      throw new Error(`service ${service.name}: cannot read its Caddyfile ${source}: ${(err as Error).message}`);
    }
    const local = join(ctx.runDir, "caddy", "Caddyfile");
    files.push({ path: local, content: localCaddyfile(text, source, rewrite, listen.ports, ctx.lbPort) });
    argv = argv.map(rewrite);
    argv[configIndex + 1] = local;
    // Caddy writes under $HOME / XDG dirs (autosave, storage); keep that inside the run dir.
    const home = join(ctx.runDir, "caddy", "home");
    Object.assign(env, { HOME: home, XDG_CONFIG_HOME: join(home, "config"), XDG_DATA_HOME: join(home, "data") });
    address = { port: ctx.lbPort };
  }
  return {
    name: service.name,
    kind,
    argv,
    env,
    cwd: ctx.repoDir,
    address,
    files,
    dependsOn: service.dependsOn,
    restart: service.restart,
    cpus: service.cpus,
    memoryBytes: service.memoryBytes,
    cpuShares: service.cpuShares,
  };
}
