// The contest's rules for the compose file (docs/contest.md, "Resource rules"), as one checker that
// returns every violation it finds. Used by test/compose.test.ts and printed by the launcher at start.

import type { Compose, Service } from "./compose";
import { MiB } from "./compose";

export const LIMITS = { cpus: 1.5, memoryBytes: 350 * MiB, port: 9999 } as const;
export const PROCESSOR_NETWORK = "payment-processor";
export const PROCESSOR_URLS = {
  PROCESSOR_DEFAULT_URL: "http://payment-processor-default:8080",
  PROCESSOR_FALLBACK_URL: "http://payment-processor-fallback:8080",
} as const;

export interface Violation {
  /** Stable id of the rule, e.g. "limits.cpus". */
  rule: string;
  message: string;
}

/** Web instances: services running the HTTP API (ROLE api or all; the entry's default ROLE is all). */
export function apiServices(compose: Compose): Service[] {
  return compose.services.filter((s) => {
    if (s.build === undefined) return false;
    const role = s.environment.ROLE ?? "all";
    return role === "api" || role === "all";
  });
}

export function talksToProcessors(service: Service): boolean {
  return Object.keys(service.environment).some((k) => /^PROCESSOR_.*_URL$/.test(k));
}

/** The network's name as Docker sees it (`name:` overrides the key). */
function networkName(compose: Compose, key: string): string {
  const name = compose.networks[key]?.name;
  return typeof name === "string" ? name : key;
}

export function checkCompose(compose: Compose): Violation[] {
  const out: Violation[] = [];
  const add = (rule: string, message: string) => out.push({ rule, message });

  if (compose.services.length === 0) add("services", "no services defined");

  let cpus = 0;
  let memory = 0;
  for (const s of compose.services) {
    const raw = s.raw as {
      deploy?: { replicas?: unknown; resources?: { limits?: { cpus?: unknown; memory?: unknown } } };
      scale?: unknown;
      privileged?: unknown;
      network_mode?: unknown;
      platform?: unknown;
    };
    if (s.image === undefined && s.build === undefined) {
      add("image", `service ${s.name}: has neither image nor build; give it one`);
    }
    if (raw.deploy?.replicas !== undefined || raw.scale !== undefined) {
      add("replicas", `service ${s.name}: replicas/scale are not allowed; declare each instance as its own service`);
    }
    if (raw.privileged === true || raw.privileged === "true") {
      add("privileged", `service ${s.name}: privileged mode is not allowed`);
    }
    if (raw.network_mode !== undefined) {
      add("network_mode", `service ${s.name}: network_mode ${raw.network_mode} is not allowed; use bridge networks`);
    }
    if (raw.platform !== undefined && raw.platform !== "linux/amd64") {
      add("platform", `service ${s.name}: platform ${raw.platform}; the contest runs linux/amd64`);
    }
    if (s.cpus === undefined) add("limits.cpus", `service ${s.name}: no deploy.resources.limits.cpus`);
    else if (!(s.cpus > 0))
      add(
        "limits.cpus",
        `service ${s.name}: unreadable cpus limit ${JSON.stringify(raw.deploy?.resources?.limits?.cpus)}`,
      );
    else cpus += s.cpus;
    if (s.memoryBytes === undefined) add("limits.memory", `service ${s.name}: no deploy.resources.limits.memory`);
    else if (!(s.memoryBytes > 0))
      add(
        "limits.memory",
        `service ${s.name}: unreadable memory limit ${JSON.stringify(raw.deploy?.resources?.limits?.memory)}`,
      );
    else memory += s.memoryBytes;

    for (const net of s.networks) {
      if (!(net in compose.networks))
        add("networks", `service ${s.name}: network ${net} is not declared under networks`);
    }
  }
  // Sums of decimals: compare in thousandths of a CPU so 0.3 + 0.3 + ... does not trip on float error.
  if (Math.round(cpus * 1000) > LIMITS.cpus * 1000) {
    add("limits.cpus", `CPU limits sum to ${cpus.toFixed(3)}, above ${LIMITS.cpus}`);
  }
  if (memory > LIMITS.memoryBytes) {
    add("limits.memory", `memory limits sum to ${(memory / MiB).toFixed(1)} MB, above ${LIMITS.memoryBytes / MiB} MB`);
  }

  // Port 9999 on the load balancer only.
  const publishers = compose.services.filter((s) => s.ports.length > 0);
  const lb = publishers.filter((s) => s.ports.some((p) => (p.published ?? p.target) === LIMITS.port));
  if (lb.length !== 1) add("port", `exactly one service must publish port ${LIMITS.port}; found ${lb.length}`);
  for (const s of publishers) {
    for (const p of s.ports) {
      if ((p.published ?? p.target) !== LIMITS.port) {
        add(
          "port",
          `service ${s.name}: publishes port ${p.published ?? p.target}; only ${LIMITS.port} on the load balancer`,
        );
      }
    }
    if (lb.length === 1 && s !== lb[0]) add("port", `service ${s.name}: publishes ports; only the load balancer may`);
  }

  const apis = apiServices(compose);
  if (apis.length < 2) {
    add(
      "instances",
      `at least two API instances are required; found ${apis.length} (${apis.map((s) => s.name).join(", ") || "none"})`,
    );
  }
  if (lb.length === 1 && apis.includes(lb[0]!)) {
    add("instances", `service ${lb[0]!.name}: the load balancer cannot be an API instance`);
  }

  // Networks: bridge or external only, and the processors' external network present.
  let processorNetKey: string | undefined;
  for (const [key, net] of Object.entries(compose.networks)) {
    const external = net.external === true || (typeof net.external === "object" && net.external !== null);
    const driver = net.driver ?? "bridge";
    if (!external && driver !== "bridge")
      add("networks", `network ${key}: driver ${String(driver)}; only bridge networks are allowed`);
    if (networkName(compose, key) === PROCESSOR_NETWORK) {
      processorNetKey = key;
      if (!external)
        add("networks", `network ${key}: ${PROCESSOR_NETWORK} must be external: true (the contest creates it)`);
    }
  }
  if (processorNetKey === undefined) add("networks", `the external network ${PROCESSOR_NETWORK} is not declared`);

  // Processors: reached by their contest hostnames, from services on the processors' network.
  const callers = compose.services.filter(talksToProcessors);
  if (callers.length === 0) add("processors", "no service has PROCESSOR_DEFAULT_URL / PROCESSOR_FALLBACK_URL");
  for (const s of callers) {
    for (const [key, url] of Object.entries(PROCESSOR_URLS)) {
      if (s.environment[key] !== url) {
        add("processors", `service ${s.name}: ${key} is ${JSON.stringify(s.environment[key])}, expected ${url}`);
      }
    }
    if (processorNetKey !== undefined && !s.networks.includes(processorNetKey)) {
      add("processors", `service ${s.name}: talks to the processors but is not on the ${PROCESSOR_NETWORK} network`);
    }
    for (const fee of ["FEE_DEFAULT", "FEE_FALLBACK"]) {
      const value = Number(s.environment[fee]);
      if (!(value > 0 && value < 1)) {
        add(
          "fees",
          `service ${s.name}: ${fee}=${JSON.stringify(s.environment[fee])}; set it to the contest's fee (a fraction, ` +
            `e.g. 0.05)`,
        );
      }
    }
  }
  return out;
}

/** Upstream addresses of `reverse_proxy` lines in a Caddyfile (`api1:8080`, `unix//sockets/api1.sock`). */
export function caddyUpstreams(caddyfile: string): string[] {
  const out: string[] = [];
  for (const line of caddyfile.split("\n")) {
    const m = /^\s*reverse_proxy\s+([^{#]*)/.exec(line);
    if (!m) continue;
    for (const token of m[1]!.trim().split(/\s+/)) {
      // `/path*` and `@name` are matchers, not upstreams.
      if (token && !token.startsWith("/") && !token.startsWith("@")) out.push(token);
    }
  }
  return out;
}

/**
 * Which API service each Caddy upstream reaches: `name:PORT` matches a service listening on PORT (default 9999),
 * `unix/<path>` a service whose SOCKET_PATH is <path>. Returns violations for upstreams that reach no API
 * instance and for API instances that no upstream reaches.
 */
export function checkCaddyUpstreams(compose: Compose, caddyfile: string): Violation[] {
  const out: Violation[] = [];
  const apis = apiServices(compose);
  const reached = new Set<string>();
  const upstreams = caddyUpstreams(caddyfile);
  if (upstreams.length === 0) out.push({ rule: "caddy", message: "the Caddyfile has no reverse_proxy upstreams" });
  for (const up of upstreams) {
    const target = up.replace(/^(http|h2c):\/\//, "");
    const hit = apis.find((s) => {
      if (target.startsWith("unix/")) return s.environment.SOCKET_PATH === target.slice("unix/".length);
      if (s.environment.SOCKET_PATH) return false;
      return target === `${s.name}:${s.environment.PORT ?? "9999"}`;
    });
    if (hit) reached.add(hit.name);
    else
      out.push({
        rule: "caddy",
        message: `upstream ${up} is not an API instance's address (name:PORT or unix/SOCKET_PATH)`,
      });
  }
  for (const s of apis) {
    if (!reached.has(s.name))
      out.push({ rule: "caddy", message: `API instance ${s.name} gets no traffic: no upstream points at it` });
  }
  return out;
}
