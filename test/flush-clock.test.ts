// The Redis store's flush clock: writes armed within one tick leave together, every flusher runs on it.
import { afterEach, describe, expect, it, vi } from "vitest";
import { FlushClock } from "../adapters/stores/redis/flush-clock";

afterEach(() => {
  vi.useRealTimers();
});

describe("FlushClock", () => {
  it("runs every flusher once per tick, however often it was armed within the tick", () => {
    vi.useFakeTimers();
    const clock = new FlushClock(5);
    const runs = { a: 0, b: 0 };
    clock.register(() => runs.a++);
    clock.register(() => runs.b++);
    clock.arm();
    vi.advanceTimersByTime(3);
    clock.arm();
    clock.arm();
    expect(runs).toEqual({ a: 0, b: 0 });
    vi.advanceTimersByTime(2);
    expect(runs).toEqual({ a: 1, b: 1 });
    vi.advanceTimersByTime(50);
    expect(runs).toEqual({ a: 1, b: 1 }); // not armed again: no timer keeps running
    clock.arm();
    vi.advanceTimersByTime(5);
    expect(runs).toEqual({ a: 2, b: 2 });
  });

  it("refuses a call size that is not a positive integer, naming it", () => {
    expect(() => new FlushClock(5, 0)).toThrow(/entriesPerCall must be an integer >= 1, got 0/);
    expect(() => new FlushClock(5, 2.5)).toThrow(/entriesPerCall/);
    expect(new FlushClock(5).entriesPerCall).toBe(32);
  });

  it("with batchMs 0 flushes on the next turn of the event loop", async () => {
    const clock = new FlushClock(0);
    let runs = 0;
    clock.register(() => runs++);
    clock.arm();
    clock.arm();
    expect(runs).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(runs).toBe(1);
  });

  it("refuses a negative or non-numeric batchMs", () => {
    expect(() => new FlushClock(-1)).toThrow(/batchMs must be >= 0/);
    expect(() => new FlushClock(Number.NaN)).toThrow(/batchMs must be >= 0/);
  });
});
