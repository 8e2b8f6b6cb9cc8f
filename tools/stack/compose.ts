// Reading docker-compose.yml: the small subset of the Compose spec this project uses, normalised into plain
// types (environment as a map, command as an argv, limits as numbers), shared by the launcher and the rules.

import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { parseRestart, type RestartPolicy } from "./restart";

export interface Mount {
  /** Named volume (`sockets`), host path (bind mount, as written) or undefined (anonymous). */
  source?: string;
  target: string;
  kind: "volume" | "bind" | "tmpfs";
}

export interface PortMapping {
  published?: number;
  target: number;
}

export interface Service {
  name: string;
  image?: string;
  build?: unknown;
  /** argv, or undefined when the image's default command applies. */
  command?: string[];
  environment: Record<string, string>;
  ports: PortMapping[];
  mounts: Mount[];
  networks: string[];
  dependsOn: string[];
  /** `restart:`; "no" when absent. */
  restart: RestartPolicy;
  /** deploy.resources.limits as numbers; undefined when absent or unreadable (the rules say which). */
  cpus?: number;
  memoryBytes?: number;
  /** `cpu_shares:` (relative CPU weight, Docker's 2-262144, default 1024); undefined when absent. */
  cpuShares?: number;
  raw: Record<string, unknown>;
}

export interface Compose {
  services: Service[];
  networks: Record<string, Record<string, unknown>>;
  volumes: Record<string, Record<string, unknown>>;
  raw: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Compose interpolation: `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `$VAR`, `$$` for a literal `$`. */
export function interpolate(text: string, env: Record<string, string | undefined>): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, name?: string, op?: string, fallback?: string, bare?: string) => {
      if (match === "$$") return "$";
      const key = name ?? bare ?? "";
      const value = env[key];
      if (op === ":-") return value === undefined || value === "" ? (fallback ?? "") : value;
      if (op === "-") return value === undefined ? (fallback ?? "") : value;
      return value ?? "";
    },
  );
}

function interpolateDeep(value: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof value === "string") return interpolate(value, env);
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, env));
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, env)]));
  }
  return value;
}

/** Shell-like split for `command: a "b c" ''` (Compose splits string commands this way). */
export function splitCommand(command: string): string[] {
  const out: string[] = [];
  let current = "";
  let started = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === "\\" && quote === '"' && i + 1 < command.length) current += command[++i];
      else current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      started = true;
    } else if (c === "\\" && i + 1 < command.length) {
      current += command[++i];
      started = true;
    } else if (/\s/.test(c)) {
      if (started) out.push(current);
      current = "";
      started = false;
    } else {
      current += c;
      started = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote in command: ${command}`);
  if (started) out.push(current);
  return out;
}

/** `cpu_shares`: an integer in Docker's range 2-262144. */
export function parseShares(v: unknown): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 2 || n > 262144)
    throw new Error(`cpu_shares must be an integer from 2 to 262144 (Docker's range), not ${String(v)}`);
  return n;
}

/** `deploy.resources.limits.cpus`: "0.3" or 0.3. NaN when unreadable. */
export function parseCpus(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value === "string" && /^\s*\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return Number.NaN;
}

/**
 * Compose/Docker byte values: a number of bytes, or `<n><unit>` with unit b, k, m, g, t (optionally followed by
 * `b` or `ib`), case-insensitive, binary multiples as Docker applies them ("350MB" = 350 MiB). NaN when unreadable.
 */
export function parseMemory(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value !== "string") return Number.NaN;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])i?b?|(b)?)\s*$/i.exec(value);
  if (!m) return Number.NaN;
  const unit = (m[2] ?? "").toLowerCase() as "" | "k" | "m" | "g" | "t";
  const scale = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[unit];
  return Math.round(Number(m[1]) * scale);
}

function toEnv(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (Array.isArray(value)) {
    const env: Record<string, string> = {};
    for (const item of value) {
      const text = String(item);
      const eq = text.indexOf("=");
      if (eq < 0) continue; // `- NAME` passes the host's value through; we do not import the host env.
      env[text.slice(0, eq)] = text.slice(eq + 1);
    }
    return env;
  }
  if (isObject(value)) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null && v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    );
  }
  throw new Error(`environment must be a map or a list, got ${JSON.stringify(value)}`);
}

function toMounts(value: unknown): Mount[] {
  if (!Array.isArray(value)) return [];
  return value.map((item): Mount => {
    if (isObject(item)) {
      const type = String(item.type ?? "volume");
      return {
        source: item.source === undefined ? undefined : String(item.source),
        target: String(item.target),
        kind: type === "bind" ? "bind" : type === "tmpfs" ? "tmpfs" : "volume",
      };
    }
    const parts = String(item).split(":");
    if (parts.length === 1) return { target: parts[0]!, kind: "volume" };
    const source = parts[0]!;
    const bind = source.startsWith(".") || source.startsWith("/") || source.startsWith("~");
    return { source, target: parts[1]!, kind: bind ? "bind" : "volume" };
  });
}

function toPorts(value: unknown): PortMapping[] {
  if (!Array.isArray(value)) return [];
  return value.map((item): PortMapping => {
    if (typeof item === "number") return { target: item };
    if (isObject(item)) {
      const published = item.published === undefined ? undefined : Number(item.published);
      return { published, target: Number(item.target) };
    }
    // "[ip:]published:target[/proto]" or "target"
    const parts = String(item)
      .replace(/\/(tcp|udp)$/, "")
      .split(":");
    const target = Number(parts[parts.length - 1]);
    const published = parts.length >= 2 ? Number(parts[parts.length - 2]) : undefined;
    return { published, target };
  });
}

function toList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (isObject(value)) return Object.keys(value);
  return [];
}

/** Normalises a parsed Compose document. Throws with the service name when a field has an unusable shape. */
export function normalizeCompose(doc: unknown, env: Record<string, string | undefined> = {}): Compose {
  if (!isObject(doc)) throw new Error("compose file: the top level must be a map");
  const raw = interpolateDeep(doc, env) as Record<string, unknown>;
  if (!isObject(raw.services)) throw new Error("compose file: `services` must be a map");
  const services = Object.entries(raw.services).map(([name, value]): Service => {
    if (!isObject(value)) throw new Error(`service ${name}: must be a map`);
    try {
      const limits = (value.deploy as { resources?: { limits?: Record<string, unknown> } } | undefined)?.resources
        ?.limits;
      const command = value.command;
      return {
        name,
        image: typeof value.image === "string" ? value.image : undefined,
        build: value.build,
        command:
          command === undefined || command === null
            ? undefined
            : Array.isArray(command)
              ? command.map(String)
              : splitCommand(String(command)),
        environment: toEnv(value.environment),
        ports: toPorts(value.ports),
        mounts: toMounts(value.volumes),
        networks: toList(value.networks),
        dependsOn: toList(value.depends_on),
        restart: parseRestart(value.restart, name),
        cpus: limits?.cpus === undefined ? undefined : parseCpus(limits.cpus),
        memoryBytes: limits?.memory === undefined ? undefined : parseMemory(limits.memory),
        cpuShares: value.cpu_shares === undefined ? undefined : parseShares(value.cpu_shares),
        raw: value,
      };
    } catch (err) {
      throw new Error(`service ${name}: ${(err as Error).message}`);
    }
  });
  const maps = (v: unknown) =>
    isObject(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, isObject(x) ? x : {}])) : {};
  return { services, networks: maps(raw.networks), volumes: maps(raw.volumes), raw };
}

export function parseCompose(text: string, env: Record<string, string | undefined> = {}): Compose {
  // merge: YAML `<<` merge keys, as Compose accepts them.
  return normalizeCompose(parse(text, { merge: true }), env);
}

/**
 * Several files merged as `docker compose -f a.yml -f b.yml` does, for the parts this project uses: maps merge
 * key by key, a later scalar or list replaces the earlier one, except a service's `volumes` (merged by mount
 * target) and `ports` (appended).
 */
export function mergeCompose(base: unknown, override: unknown, path: string[] = []): unknown {
  if (!isObject(base) || !isObject(override)) return override === undefined ? base : override;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const inService = path.length === 2 && path[0] === "services";
    if (inService && key === "volumes" && Array.isArray(value) && Array.isArray(out[key])) {
      const target = (m: unknown) => toMounts([m])[0]!.target;
      const replaced = new Set(value.map(target));
      out[key] = [...(out[key] as unknown[]).filter((m) => !replaced.has(target(m))), ...value];
    } else if (inService && key === "ports" && Array.isArray(value) && Array.isArray(out[key])) {
      out[key] = [...(out[key] as unknown[]), ...value];
    } else out[key] = mergeCompose(out[key], value, [...path, key]);
  }
  return out;
}

/** One compose file, or several merged in order (later files override earlier ones). */
export function loadCompose(files: string | string[], env: Record<string, string | undefined> = {}): Compose {
  const docs = (Array.isArray(files) ? files : [files]).map((f) => {
    const doc: unknown = parse(readFileSync(f, "utf8"), { merge: true });
    if (!isObject(doc)) throw new Error(`compose file ${f}: the top level must be a map`);
    return doc;
  });
  return normalizeCompose(
    docs.reduce((a, b) => mergeCompose(a, b) as Record<string, unknown>),
    env,
  );
}

export const MiB = 1024 * 1024;
