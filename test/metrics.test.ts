import { describe, expect, it } from "vitest";
import { Metrics } from "../handlers/contract/metrics";

describe("Metrics.render", () => {
  it("groups each metric's HELP, TYPE and series together", async () => {
    const m = new Metrics();
    m.describe("a_total", "counter", "a things");
    m.describe("lat_ms", "histogram", "latency");
    m.describe("depth", "gauge", "depth");
    m.inc("a_total", { k: "x" });
    m.inc("b_total");
    m.inc("a_total", { k: "y" }, 2);
    m.observeLatency("default", 30, "lat_ms");
    m.gauge("depth", () => ({ '{state="ready"}': 4 }));
    const lines = (await m.render()).trim().split("\n");
    const firstOf = (name: string) => lines.findIndex((l) => l.startsWith(name) || l.includes(` ${name} `));
    // every series of a metric sits between its TYPE line and the next metric's HELP line
    const typeA = lines.indexOf("# TYPE a_total counter");
    expect(lines.slice(typeA + 1, typeA + 3)).toEqual(['a_total{k="x"} 1', 'a_total{k="y"} 2']);
    expect(lines).toContain('lat_ms_bucket{processor="default",le="50"} 1');
    expect(lines).toContain('lat_ms_bucket{processor="default",le="25"} 0');
    expect(lines).toContain('lat_ms_count{processor="default"} 1');
    expect(lines[lines.indexOf("# TYPE depth gauge") + 1]).toBe('depth{state="ready"} 4');
    expect(firstOf("b_total")).toBeGreaterThan(-1);
  });
});
