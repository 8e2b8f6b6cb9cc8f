// Per-service CPU quota and memory limit through Linux cgroups, as `deploy.resources.limits` does in Docker.
// Groups are created under the launcher's own cgroup (never above it), one parent per launcher run
// (`rinha-stack-<pid>`), and removed when the stack stops. A process joins its group before it execs
// (see `wrapArgv`), so none of its work escapes the limit.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const CFS_PERIOD_US = 100_000;

export interface Limits {
  cpus?: number;
  memoryBytes?: number;
  /** Relative CPU weight (compose `cpu_shares`): v1 cpu.shares, v2 cpu.weight by Docker's mapping. */
  cpuShares?: number;
}

/** Docker's (runc's) cgroup v2 mapping of cpu_shares 2-262144 onto cpu.weight 1-10000. */
export const weightOfShares = (shares: number) => 1 + Math.floor(((shares - 2) * 9999) / 262142);

export interface ServiceGroup {
  /** Directories whose cgroup.procs the process must join (one per v1 controller, or one v2 group). */
  procsFiles: string[];
  dirs: string[];
  describe: string;
  /** Peak memory, CPU time and throttling so far (undefined where the kernel does not say). */
  stats(): GroupStats;
  /** Reads the group's anonymous memory now, for the peak the kernel does not keep (call it periodically). */
  sample(): void;
  /** Pids still in the group. */
  pids(): number[];
}

export interface GroupStats {
  /** The kernel's peak, page cache included (e.g. the binary's pages, charged to the first group that reads them). */
  peakMemoryBytes?: number;
  /** Highest anonymous memory (heap, stacks: what the process itself holds) seen by sample(). */
  peakRssBytes?: number;
  memoryBytes?: number;
  cpuSeconds?: number;
  throttledPeriods?: number;
  throttledSeconds?: number;
  oomKills?: number;
  memoryLimitHits?: number;
}

export interface CgroupManager {
  readonly version: 1 | 2;
  create(name: string, limits: Limits): ServiceGroup;
  /** Where a service's group lives (for messages). */
  location(name: string): string;
  /** Kills what is left in each group and removes every directory this manager made. */
  removeAll(): string[];
}

const read = (file: string): string | undefined => {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
};
const readNumber = (file: string): number | undefined => {
  const text = read(file);
  return text === undefined ? undefined : Number(text.trim());
};
/** The highest value `read` returned over the calls to sample(). */
function peakOf(read: () => number | undefined) {
  let peak: number | undefined;
  return {
    sample() {
      const v = read();
      if (v !== undefined && (peak === undefined || v > peak)) peak = v;
    },
    peak: () => peak,
  };
}

const keyed = (file: string): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const line of (read(file) ?? "").split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out[k] = Number(v);
  }
  return out;
};

function pidsIn(dir: string): number[] {
  return (read(join(dir, "cgroup.procs")) ?? "").split("\n").filter(Boolean).map(Number);
}

/** Removes a group after killing whatever is still inside it (retries: exits are asynchronous). */
function removeDir(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  for (let attempt = 0; attempt < 50; attempt++) {
    for (const pid of pidsIn(dir)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    try {
      rmdirSync(dir);
      return undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20); // short sync sleep, then retry
    }
  }
  return `could not remove ${dir} (still busy)`;
}

interface V1Controller {
  /** Directory of the launcher's own group in this controller's hierarchy. */
  base: string;
}

/** Where this process sits in each v1 hierarchy: mount point + own path (relative to the mount's root). */
function v1Controllers(): Map<string, V1Controller> {
  const own = new Map<string, string>();
  for (const line of (read("/proc/self/cgroup") ?? "").split("\n")) {
    const [, controllers, path] = line.split(":");
    if (!controllers || path === undefined) continue;
    for (const c of controllers.split(",")) own.set(c, path);
  }
  const found = new Map<string, V1Controller>();
  for (const line of (read("/proc/self/mountinfo") ?? "").split("\n")) {
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const [fstype, , superOptions] = right.split(" ");
    if (fstype !== "cgroup" || !superOptions) continue;
    const fields = left.split(" ");
    const root = fields[3]!;
    const mountPoint = fields[4]!;
    for (const c of superOptions.split(",")) {
      const path = own.get(c);
      if (path === undefined || found.has(c)) continue;
      const rel = root !== "/" && path.startsWith(root) ? path.slice(root.length) : path;
      found.set(c, { base: join(mountPoint, rel) });
    }
  }
  return found;
}

function v1Manager(stackName: string): CgroupManager {
  const controllers = v1Controllers();
  const cpu = controllers.get("cpu");
  const memory = controllers.get("memory");
  if (!cpu || !memory) throw new Error("cgroup v1 without both cpu and memory controllers mounted");
  // cpuacct only for statistics; it is often co-mounted with cpu (then it is the same directory).
  const cpuacct = controllers.get("cpuacct");
  const roots = new Set([cpu.base, memory.base, ...(cpuacct ? [cpuacct.base] : [])].map((b) => join(b, stackName)));
  const made: string[] = [];
  const mk = (dir: string) => {
    if (!existsSync(dir)) {
      mkdirSync(dir);
      made.push(dir);
    }
  };
  return {
    version: 1,
    location: (name) => [...new Set([cpu.base, memory.base])].map((b) => join(b, stackName, name)).join(" and "),
    create(name, limits) {
      for (const root of roots) mk(root);
      const cpuDir = join(cpu.base, stackName, name);
      const memDir = join(memory.base, stackName, name);
      const acctDir = cpuacct ? join(cpuacct.base, stackName, name) : undefined;
      const dirs = [...new Set([cpuDir, memDir, ...(acctDir ? [acctDir] : [])])];
      for (const dir of dirs) mk(dir);
      const rss = peakOf(() => keyed(join(memDir, "memory.stat")).total_rss);
      if (limits.cpus !== undefined) {
        writeFileSync(join(cpuDir, "cpu.cfs_period_us"), String(CFS_PERIOD_US));
        writeFileSync(join(cpuDir, "cpu.cfs_quota_us"), String(Math.round(limits.cpus * CFS_PERIOD_US)));
      }
      if (limits.cpuShares !== undefined) writeFileSync(join(cpuDir, "cpu.shares"), String(limits.cpuShares));
      if (limits.memoryBytes !== undefined) {
        writeFileSync(join(memDir, "memory.limit_in_bytes"), String(limits.memoryBytes));
      }
      return {
        procsFiles: dirs.map((d) => join(d, "cgroup.procs")),
        dirs,
        describe: `cgroup v1 ${cpuDir}${memDir === cpuDir ? "" : ` + ${memDir}`}`,
        pids: () => [...new Set(dirs.flatMap(pidsIn))],
        sample: () => {
          rss.sample();
        },
        stats() {
          rss.sample();
          const cpuStat = keyed(join(cpuDir, "cpu.stat"));
          const oom = keyed(join(memDir, "memory.oom_control"));
          const usageNs = acctDir ? readNumber(join(acctDir, "cpuacct.usage")) : undefined;
          return {
            peakMemoryBytes: readNumber(join(memDir, "memory.max_usage_in_bytes")),
            peakRssBytes: rss.peak(),
            memoryBytes: readNumber(join(memDir, "memory.usage_in_bytes")),
            cpuSeconds: usageNs === undefined ? undefined : usageNs / 1e9,
            throttledPeriods: cpuStat.nr_throttled,
            throttledSeconds: cpuStat.throttled_time === undefined ? undefined : cpuStat.throttled_time / 1e9,
            oomKills: oom.oom_kill,
            memoryLimitHits: readNumber(join(memDir, "memory.failcnt")),
          };
        },
      };
    },
    removeAll: () => removeAllDirs(made),
  };
}

function v2Manager(stackName: string): CgroupManager {
  const line = (read("/proc/self/cgroup") ?? "").split("\n").find((l) => l.startsWith("0::"));
  if (line === undefined) throw new Error("no cgroup v2 entry in /proc/self/cgroup");
  const base = join("/sys/fs/cgroup", line.slice(3));
  const enabled = (dir: string) => (read(join(dir, "cgroup.subtree_control")) ?? "").split(/\s+/);
  if (!["cpu", "memory"].every((c) => enabled(base).includes(c))) {
    // Fails when our own group holds processes (cgroup v2's no-internal-processes rule); the message says so.
    try {
      writeFileSync(join(base, "cgroup.subtree_control"), "+cpu +memory");
    } catch (err) {
      throw new Error(`cannot enable cpu+memory controllers in ${base}: ${(err as Error).message}`);
    }
  }
  const root = join(base, stackName);
  const made: string[] = [];
  return {
    version: 2,
    location: (name) => join(root, name),
    create(name, limits) {
      if (!existsSync(root)) {
        mkdirSync(root);
        made.push(root);
        writeFileSync(join(root, "cgroup.subtree_control"), "+cpu +memory");
      }
      const dir = join(root, name);
      mkdirSync(dir);
      made.push(dir);
      if (limits.cpus !== undefined) {
        writeFileSync(join(dir, "cpu.max"), `${Math.round(limits.cpus * CFS_PERIOD_US)} ${CFS_PERIOD_US}`);
      }
      if (limits.cpuShares !== undefined)
        writeFileSync(join(dir, "cpu.weight"), String(weightOfShares(limits.cpuShares)));
      if (limits.memoryBytes !== undefined) writeFileSync(join(dir, "memory.max"), String(limits.memoryBytes));
      const rss = peakOf(() => keyed(join(dir, "memory.stat")).anon);
      return {
        procsFiles: [join(dir, "cgroup.procs")],
        dirs: [dir],
        describe: `cgroup v2 ${dir}`,
        pids: () => pidsIn(dir),
        sample: () => {
          rss.sample();
        },
        stats() {
          rss.sample();
          const cpuStat = keyed(join(dir, "cpu.stat"));
          const events = keyed(join(dir, "memory.events"));
          return {
            peakMemoryBytes: readNumber(join(dir, "memory.peak")),
            peakRssBytes: rss.peak(),
            memoryBytes: readNumber(join(dir, "memory.current")),
            cpuSeconds: cpuStat.usage_usec === undefined ? undefined : cpuStat.usage_usec / 1e6,
            throttledPeriods: cpuStat.nr_throttled,
            throttledSeconds: cpuStat.throttled_usec === undefined ? undefined : cpuStat.throttled_usec / 1e6,
            oomKills: events.oom_kill,
            memoryLimitHits: events.max,
          };
        },
      };
    },
    removeAll: () => removeAllDirs(made),
  };
}

/**
 * A manager when limits can be applied here, else the reason they cannot. Probes by creating and removing a
 * scratch group, so "can" means a write actually succeeded.
 */
export function openCgroups(stackName: string): { manager: CgroupManager } | { reason: string } {
  if (process.platform !== "linux") return { reason: `cgroups are Linux-only (platform ${process.platform})` };
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    return { reason: `not root (uid ${process.getuid()}); run as root to apply the limits` };
  }
  const unified = existsSync("/sys/fs/cgroup/cgroup.controllers");
  let manager: CgroupManager;
  try {
    manager = unified ? v2Manager(stackName) : v1Manager(stackName);
  } catch (err) {
    return { reason: (err as Error).message };
  }
  try {
    manager.create("probe", { cpus: 1, memoryBytes: 64 * 1024 * 1024 });
    const problems = manager.removeAll();
    if (problems.length) return { reason: problems.join("; ") };
  } catch (err) {
    manager.removeAll();
    return { reason: `cgroup ${unified ? "v2" : "v1"} not writable: ${(err as Error).message}` };
  }
  return { manager };
}

/**
 * argv that joins the given groups and then execs the command, so the pid we spawn is the service's pid and
 * every thread and child it starts is inside the limits from its first instruction.
 */
export function wrapArgv(procsFiles: string[], argv: string[]): string[] {
  if (procsFiles.length === 0) return argv;
  const script = 'while [ "$1" != "--" ]; do echo $$ > "$1" || exit 97; shift; done; shift; exec "$@"';
  return ["/bin/sh", "-c", script, "sh", ...procsFiles, "--", ...argv];
}

/**
 * Removes groups left by launcher runs whose process is gone (e.g. a launcher killed with SIGKILL), killing any
 * service still inside them. Returns what it removed.
 */
export function removeStaleGroups(): string[] {
  const bases = new Set<string>();
  if (existsSync("/sys/fs/cgroup/cgroup.controllers")) {
    const line = (read("/proc/self/cgroup") ?? "").split("\n").find((l) => l.startsWith("0::"));
    if (line !== undefined) bases.add(join("/sys/fs/cgroup", line.slice(3)));
  } else {
    for (const c of v1Controllers().values()) bases.add(c.base);
  }
  const removed: string[] = [];
  for (const base of bases) {
    let entries: string[] = [];
    try {
      entries = readdirSync(base);
    } catch {}
    for (const e of entries) {
      const m = /^rinha-stack-(\d+)$/.exec(e);
      if (!m) continue;
      try {
        process.kill(Number(m[1]), 0);
        continue; // its launcher is alive
      } catch {}
      const dir = join(base, e);
      let children: string[] = [];
      try {
        children = readdirSync(dir, { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => join(dir, d.name));
      } catch {}
      for (const child of children) removeDir(child);
      if (removeDir(dir) === undefined) removed.push(dir);
    }
  }
  return removed;
}

/** Removes the cgroups we made, children first; returns what could not be removed. */
function removeAllDirs(made: string[]): string[] {
  const problems: string[] = [];
  for (const dir of [...made].reverse()) {
    const p = removeDir(dir);
    if (p) problems.push(p);
  }
  made.length = 0;
  return problems;
}
