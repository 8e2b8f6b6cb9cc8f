// Seeded pseudo-random numbers: the same seed gives the same run on any machine, so a simulation or a fuzz
// corpus can be replayed from its seed. One generator (mulberry32); Rng adds the helpers the fuzzer uses.

/** Uniform in [0, 1). */
export type Random = () => number;

export function makeRng(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  /** Uniform in [0, 1). */
  readonly next: Random;

  constructor(readonly seed: number) {
    this.next = makeRng(seed);
  }

  /** Integer in [lo, hi], both ends included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }

  /** A version-4 UUID, lower-case, from this generator (not crypto: it must be replayable). */
  uuid(): string {
    const hex = (n: number) => Array.from({ length: n }, () => this.int(0, 15).toString(16)).join("");
    return `${hex(8)}-${hex(4)}-4${hex(3)}-${this.pick(["8", "9", "a", "b"])}${hex(3)}-${hex(12)}`;
  }

  /** Random printable ASCII. */
  ascii(len: number): string {
    let s = "";
    for (let i = 0; i < len; i++) s += String.fromCharCode(this.int(0x20, 0x7e));
    return s;
  }

  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  }
}
