// Client side of the fault tests: POSTs payments to one or more API processes (alternating, as a load
// balancer would) and remembers every one of them, so the checks know which were answered 2xx.
import { Pool } from "undici";
import { sleep } from "../procs";

export interface Sent {
  id: string;
  cents: number;
  /** Which API it went to. */
  target: string;
  startedAt: number;
  endedAt?: number;
  status?: number;
  error?: string;
}

export class Load {
  readonly sent = new Map<string, Sent>();
  private readonly pools = new Map<string, Pool>();
  private turn = 0;
  private outstanding = new Set<Promise<Sent>>();

  constructor(public targets: string[]) {}

  private pool(url: string) {
    let p = this.pools.get(url);
    if (!p) {
      p = new Pool(url, { connections: 64, keepAliveTimeout: 10_000 });
      this.pools.set(url, p);
    }
    return p;
  }

  /** POSTs one fresh payment (random amount with cents) to the next target, or to `target`. */
  post(target?: string): Promise<Sent> {
    const url = target ?? this.targets[this.turn++ % this.targets.length]!;
    const cents = 1 + Math.floor(Math.random() * 99_999);
    const s: Sent = { id: crypto.randomUUID(), cents, target: url, startedAt: Date.now() };
    this.sent.set(s.id, s);
    const p = this.pool(url)
      .request({
        method: "POST",
        path: "/payments",
        headers: { "content-type": "application/json" },
        body: `{"correlationId":"${s.id}","amount":${cents / 100}}`,
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      })
      .then(async (res) => {
        await res.body.dump();
        s.status = res.statusCode;
      })
      .catch((err: Error & { code?: string }) => {
        s.error = err.code ?? err.message;
      })
      .then(() => {
        s.endedAt = Date.now();
        this.outstanding.delete(p);
        return s;
      });
    this.outstanding.add(p);
    return p;
  }

  burst(n: number): Promise<Sent[]> {
    return Promise.all(Array.from({ length: n }, () => this.post()));
  }

  /** POSTs at about `perSecond` until `stop()` returns true (checked every 10 ms); does not wait for answers. */
  async steady(perSecond: number, stop: () => boolean): Promise<void> {
    const t0 = Date.now();
    let n = 0;
    while (!stop()) {
      const due = Math.floor(((Date.now() - t0) / 1000) * perSecond);
      // Catch up at most one second's worth after a stall (a busy machine), never an avalanche.
      if (due - n > perSecond) n = due - perSecond;
      for (; n < due; n++) void this.post();
      await sleep(10);
    }
  }

  /** Waits for every POST sent so far to be answered or to fail. */
  async settle(): Promise<void> {
    while (this.outstanding.size > 0) await Promise.all([...this.outstanding]);
  }

  all(): Sent[] {
    return [...this.sent.values()];
  }
  accepted(): Sent[] {
    return this.all().filter((s) => s.status !== undefined && s.status >= 200 && s.status < 300);
  }

  /** Counts of outcomes: "202", "503", "ECONNREFUSED", ... */
  outcomes(list = this.all()): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of list) {
      const k = s.status !== undefined ? String(s.status) : (s.error ?? "pending");
      out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  }

  async close() {
    await Promise.all([...this.pools.values()].map((p) => p.destroy()));
    this.pools.clear();
  }
}
