// The discrete-event core: a min-heap of timed callbacks, ms resolution, ties broken by insertion order
// (so a run is deterministic).

interface Ev {
  t: number;
  seq: number;
  fn: () => void;
}

export class Clock {
  now = 0;
  private heap: Ev[] = [];
  private seq = 0;

  /** Runs fn at time t (never in the past). */
  at(t: number, fn: () => void): void {
    this.push({ t: Math.max(t, this.now), seq: this.seq++, fn });
  }

  after(ms: number, fn: () => void): void {
    this.at(this.now + ms, fn);
  }

  /** Runs events in time order until none are left or the next one is after `until`. */
  run(until: number): void {
    while (this.heap.length > 0 && this.heap[0]!.t <= until) {
      const e = this.pop();
      this.now = e.t;
      e.fn();
    }
    this.now = Math.max(this.now, until);
  }

  private less(a: Ev, b: Ev) {
    return a.t < b.t || (a.t === b.t && a.seq < b.seq);
  }

  private push(e: Ev) {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Ev {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1,
          r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
