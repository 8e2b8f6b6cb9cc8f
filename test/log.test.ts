import { afterEach, describe, expect, it, vi } from "vitest";
import { configureLog, log } from "../handlers/contract/log";

describe("log", () => {
  afterEach(() => {
    vi.useRealTimers();
    configureLog("warn", (l) => console.error(l));
  });

  it("writes JSON lines at or above the level, nothing below", () => {
    const lines: string[] = [];
    configureLog("warn", (l) => lines.push(l));
    log("info", "quiet_event");
    log("warn", "loud_event", { processor: "default" });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: "warn", event: "loud_event", processor: "default" });
  });

  it("summarises repeats of one event within a second", () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const lines: string[] = [];
    configureLog("debug", (l) => lines.push(l));
    for (let i = 0; i < 500; i++) log("error", "storm_event", { i });
    log("error", "other_event");
    expect(lines).toHaveLength(2);
    vi.setSystemTime(1_001_500);
    log("error", "storm_event", { i: 500 });
    expect(JSON.parse(lines[2]!)).toMatchObject({ event: "storm_event", i: 500, suppressed: 499 });
  });
});
