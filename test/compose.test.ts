// The compose file against the contest's resource rules (docs/contest.md). The same checker is fed broken
// variants, so a rule the checker stopped enforcing fails here too.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../handlers/contract/config";
import { REPO_DIR } from "../tools/lib/repo";
import { weightOfShares } from "../tools/stack/cgroup";
import {
  interpolate,
  MiB,
  normalizeCompose,
  parseCpus,
  parseMemory,
  parseShares,
  splitCommand,
} from "../tools/stack/compose";
import { apiServices, caddyUpstreams, checkCaddyUpstreams, checkCompose, LIMITS } from "../tools/stack/rules";

const composeText = readFileSync(join(REPO_DIR, "docker-compose.yml"), "utf8");
const caddyfile = readFileSync(join(REPO_DIR, "Caddyfile"), "utf8");
/** The parsed YAML, loosely typed: the broken variants below reach into it freely. */
// biome-ignore lint/suspicious/noExplicitAny: a YAML document of any shape, mutated by the cases below
type Doc = Record<string, any>;
const rawDoc = () => parse(composeText, { merge: true }) as Doc;
const compose = normalizeCompose(rawDoc(), {});

function variant(mutate: (doc: Doc) => void) {
  const doc = rawDoc();
  mutate(doc);
  return checkCompose(normalizeCompose(doc, {}));
}

describe("value formats", () => {
  it.each([
    ["350MB", 350 * MiB],
    ["60M", 60 * MiB],
    ["60m", 60 * MiB],
    ["60mb", 60 * MiB],
    ["60MiB", 60 * MiB],
    ["512k", 512 * 1024],
    ["1g", 1024 * MiB],
    ["1.5G", 1.5 * 1024 * MiB],
    ["1048576", 1048576],
    ["100b", 100],
    [1048576, 1048576],
  ])("memory %j = %d bytes", (text, bytes) => {
    expect(parseMemory(text)).toBe(bytes);
  });

  it.each(["", "lots", "60 MB extra", "-5M", "5X", null])("memory %j is unreadable", (text) => {
    expect(parseMemory(text)).toBeNaN();
  });

  it.each([
    ["0.3", 0.3],
    [" 1.5 ", 1.5],
    [0.25, 0.25],
    ["2", 2],
  ])("cpus %j = %d", (text, cpus) => {
    expect(parseCpus(text)).toBe(cpus);
  });

  it.each(["", "half", "0.3 cpu", "-1"])("cpus %j is unreadable", (text) => {
    expect(parseCpus(text)).toBeNaN();
  });

  it.each([
    [1024, 1024],
    ["8192", 8192],
    [2, 2],
    [262144, 262144],
  ])("cpu_shares %j = %d", (v, n) => {
    expect(parseShares(v)).toBe(n);
  });

  it.each([0, 1, 262145, 1.5, "lots", ""])("cpu_shares %j is refused with Docker's range", (v) => {
    expect(() => parseShares(v)).toThrow(/2 to 262144/);
  });

  // runc's mapping: the default 1024 is weight 39, the extremes 1 and 10000.
  it.each([
    [2, 1],
    [1024, 39],
    [262144, 10000],
  ])("cpu_shares %d is cgroup v2 cpu.weight %d", (shares, weight) => {
    expect(weightOfShares(shares)).toBe(weight);
  });

  it("reads cpu_shares per service and names the service when it is out of range", () => {
    const c = normalizeCompose({ services: { api: { image: "x", cpu_shares: 4096 }, w: { image: "x" } } });
    expect(c.services.map((s) => s.cpuShares)).toEqual([4096, undefined]);
    expect(() => normalizeCompose({ services: { w: { image: "x", cpu_shares: 1 } } })).toThrow(/service w: cpu_shares/);
  });

  // biome-ignore format: one row per line reads as a table
  it.each([
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose interpolation syntax, not a JS template
    ["${FEE:-0.05}", {}, "0.05"],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose interpolation syntax, not a JS template
    ["${FEE:-0.05}", { FEE: "" }, "0.05"],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose interpolation syntax, not a JS template
    ["${FEE-0.05}", { FEE: "" }, ""],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose interpolation syntax, not a JS template
    ["${FEE:-0.05}", { FEE: "0.07" }, "0.07"],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose interpolation syntax, not a JS template
    ["$FEE/${FEE}", { FEE: "x" }, "x/x"],
    ["cost $$5", {}, "cost $5"],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose interpolation syntax, not a JS template
    ["${MISSING}", {}, ""],
  ])("interpolate %j with %j = %j", (text, env, out) => {
    expect(interpolate(text, env)).toBe(out);
  });

  it.each([
    ['redis-server --save "" --appendonly no', ["redis-server", "--save", "", "--appendonly", "no"]],
    ["a 'b c' d\\ e", ["a", "b c", "d e"]],
    ['x "say \\"hi\\""', ["x", 'say "hi"']],
    ["  spaced   out  ", ["spaced", "out"]],
  ])("command %j splits to %j", (text, argv) => {
    expect(splitCommand(text)).toEqual(argv);
  });

  it("an unterminated quote is an error", () => {
    expect(() => splitCommand('redis-server --save "')).toThrow(/unterminated/);
  });
});

describe("docker-compose.yml", () => {
  it("follows every contest rule", () => {
    expect(checkCompose(compose)).toEqual([]);
  });

  it("stays within 1.5 CPU and 350 MB in total, with a limit on every service", () => {
    const cpus = compose.services.reduce((sum, s) => sum + (s.cpus ?? Infinity), 0);
    const memory = compose.services.reduce((sum, s) => sum + (s.memoryBytes ?? Infinity), 0);
    expect(Math.round(cpus * 1000)).toBeLessThanOrEqual(LIMITS.cpus * 1000);
    expect(memory).toBeLessThanOrEqual(350 * MiB);
  });

  it("has at least two API instances behind the load balancer, and Caddy routes to each of them", () => {
    expect(apiServices(compose).length).toBeGreaterThanOrEqual(2);
    expect(caddyUpstreams(caddyfile).length).toBeGreaterThanOrEqual(2);
    expect(checkCaddyUpstreams(compose, caddyfile)).toEqual([]);
  });

  it("reaches the processors by their contest hostnames from the payment-processor network", () => {
    const callers = compose.services.filter((s) => s.environment.PROCESSOR_DEFAULT_URL);
    expect(callers.length).toBeGreaterThan(0);
    for (const s of callers) {
      expect(s.environment.PROCESSOR_DEFAULT_URL).toBe("http://payment-processor-default:8080");
      expect(s.environment.PROCESSOR_FALLBACK_URL).toBe("http://payment-processor-fallback:8080");
      expect(s.networks).toContain("payment-processor");
    }
    expect(compose.networks["payment-processor"]?.external).toBe(true);
  });

  it("takes the fees from the environment, defaulting to the preview's", () => {
    const worker = normalizeCompose(rawDoc(), { FEE_DEFAULT: "0.07", FEE_FALLBACK: "0.10" }).services.find(
      (s) => s.name === "worker",
    )!;
    expect(worker.environment.FEE_DEFAULT).toBe("0.07");
    expect(worker.environment.FEE_FALLBACK).toBe("0.10");
    const byDefault = compose.services.find((s) => s.name === "worker")!;
    expect(byDefault.environment.FEE_DEFAULT).toBe("0.05");
    expect(byDefault.environment.FEE_FALLBACK).toBe("0.15");
  });

  it("gives every service we build an environment the configuration reader accepts", () => {
    const ours = compose.services.filter((s) => s.build !== undefined);
    expect(ours.length).toBeGreaterThanOrEqual(3);
    for (const s of ours) expect(() => loadConfig(s.environment), s.name).not.toThrow();
  });

  it("restarts every service that dies (restart: unless-stopped), as the launcher does too", () => {
    expect(Object.fromEntries(compose.services.map((s) => [s.name, s.restart]))).toEqual({
      caddy: "unless-stopped",
      api1: "unless-stopped",
      api2: "unless-stopped",
      worker: "unless-stopped",
      redis: "unless-stopped",
    });
  });

  it("runs Redis without persistence", () => {
    const redis = compose.services.find((s) => s.name === "redis")!;
    const argv = redis.command!;
    expect(argv[argv.indexOf("--save") + 1]).toBe("");
    expect(argv[argv.indexOf("--appendonly") + 1]).toBe("no");
  });

  it("Caddyfile is accepted by caddy", () => {
    // Needs caddy on PATH (apt-get install caddy); a missing caddy fails here with ENOENT.
    const out = execFileSync("caddy", ["validate", "--config", "Caddyfile", "--adapter", "caddyfile"], {
      cwd: REPO_DIR,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    expect(out).toContain("Valid configuration");
  });
});

describe("the checker reports each broken variant", () => {
  const cases: [string, string, (doc: Doc) => void][] = [
    ["CPU sum above 1.5", "limits.cpus", (d) => (d.services.api1.deploy.resources.limits.cpus = "0.6")],
    ["memory sum above 350 MB", "limits.memory", (d) => (d.services.worker.deploy.resources.limits.memory = "200MB")],
    ["a service without limits", "limits.memory", (d) => delete d.services.redis.deploy],
    ["a service without a cpus limit", "limits.cpus", (d) => delete d.services.redis.deploy.resources.limits.cpus],
    ["an unreadable memory limit", "limits.memory", (d) => (d.services.caddy.deploy.resources.limits.memory = "lots")],
    ["an API instance publishing a port", "port", (d) => (d.services.api2.ports = ["8080:8080"])],
    ["no service on port 9999", "port", (d) => (d.services.caddy.ports = ["8080:9999"])],
    ["no published ports at all", "port", (d) => delete d.services.caddy.ports],
    ["a single API instance", "instances", (d) => delete d.services.api2],
    ["replicas", "replicas", (d) => (d.services.api1.deploy.replicas = 2)],
    ["scale", "replicas", (d) => (d.services.api1.scale = 2)],
    ["privileged mode", "privileged", (d) => (d.services.redis.privileged = true)],
    ["host network mode", "network_mode", (d) => (d.services.caddy.network_mode = "host")],
    ["a non-amd64 platform", "platform", (d) => (d.services.api1.platform = "linux/arm64")],
    ["a non-bridge network", "networks", (d) => (d.networks.backend.driver = "overlay")],
    ["payment-processor not external", "networks", (d) => (d.networks["payment-processor"] = { driver: "bridge" })],
    [
      "payment-processor missing",
      "networks",
      (d) => {
        delete d.networks["payment-processor"];
        d.services.worker.networks = ["backend"];
      },
    ],
    ["an undeclared network", "networks", (d) => d.services.api1.networks.push("elsewhere")],
    ["a service with neither image nor build", "image", (d) => delete d.services.redis.image],
    [
      "the processor caller off the payment-processor network",
      "processors",
      (d) => (d.services.worker.networks = ["backend"]),
    ],
    [
      "a wrong default processor URL",
      "processors",
      (d) => (d.services.worker.environment.PROCESSOR_DEFAULT_URL = "http://localhost:8001"),
    ],
    [
      "no processor URLs anywhere",
      "processors",
      (d) => {
        delete d.services.worker.environment.PROCESSOR_DEFAULT_URL;
        delete d.services.worker.environment.PROCESSOR_FALLBACK_URL;
      },
    ],
    ["a missing fee", "fees", (d) => delete d.services.worker.environment.FEE_FALLBACK],
    ["a fee given in percent", "fees", (d) => (d.services.worker.environment.FEE_DEFAULT = "5")],
  ];

  it.each(cases)("%s -> %s", (_title, rule, mutate) => {
    const violations = variant(mutate);
    expect(violations.map((v) => v.rule)).toContain(rule);
    for (const v of violations) expect(v.message.length).toBeGreaterThan(10);
  });

  it("a Caddyfile that leaves an API instance out", () => {
    const broken = caddyfile.replace(" unix//sockets/api2.sock", "");
    expect(broken).not.toBe(caddyfile);
    expect(
      checkCaddyUpstreams(compose, broken)
        .map((v) => v.message)
        .join("\n"),
    ).toMatch(/api2 gets no traffic/);
  });

  it("a Caddyfile upstream that reaches nothing", () => {
    const broken = caddyfile.replace("unix//sockets/api2.sock", "unix//sockets/api3.sock");
    expect(broken).not.toBe(caddyfile);
    expect(
      checkCaddyUpstreams(compose, broken)
        .map((v) => v.message)
        .join("\n"),
    ).toMatch(/api3\.sock is not an API instance/);
  });

  it("TCP upstreams match PORT", () => {
    const doc = rawDoc();
    for (const name of ["api1", "api2"]) {
      delete doc.services[name].environment.SOCKET_PATH;
      doc.services[name].environment.PORT = "8080";
    }
    const tcp = normalizeCompose(doc, {});
    expect(checkCaddyUpstreams(tcp, "reverse_proxy api1:8080 api2:8080 {")).toEqual([]);
    expect(checkCaddyUpstreams(tcp, "reverse_proxy api1:9999 api2:8080 {").length).toBeGreaterThan(0);
  });
});
