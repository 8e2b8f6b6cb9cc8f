// Prometheus text exposition without a dependency: counters are plain numbers bumped on the hot path.

type Labels = Record<string, string>;

const key = (name: string, labels?: Labels) =>
  labels
    ? `${name}{${Object.entries(labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(",")}}`
    : name;

const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 1500, 2500, 5000, 10000];

export class Metrics {
  private counters = new Map<string, number>();
  private help = new Map<string, [string, string]>(); // name -> [type, help]
  private gauges = new Map<string, () => Promise<Record<string, number>> | Record<string, number>>();
  private hist = new Map<string, { buckets: number[]; sum: number; count: number }>();

  inc(name: string, labels?: Labels, by = 1) {
    const k = key(name, labels);
    this.counters.set(k, (this.counters.get(k) ?? 0) + by);
  }

  get(name: string, labels?: Labels): number {
    return this.counters.get(key(name, labels)) ?? 0;
  }

  describe(name: string, type: "counter" | "gauge" | "histogram", help: string) {
    this.help.set(name, [type, help]);
  }

  /** A gauge read at scrape time: returns series suffix (label part, "" for none) -> value. */
  gauge(name: string, read: () => Promise<Record<string, number>> | Record<string, number>) {
    this.gauges.set(name, read);
  }

  observeLatency(processor: string, ms: number, name = "processor_latency_ms") {
    const k = key(name, { processor });
    let h = this.hist.get(k);
    if (!h) {
      h = { buckets: LATENCY_BUCKETS_MS.map(() => 0), sum: 0, count: 0 };
      this.hist.set(k, h);
    }
    for (let i = 0; i < LATENCY_BUCKETS_MS.length; i++) if (ms <= LATENCY_BUCKETS_MS[i]!) h.buckets[i]!++;
    h.sum += ms;
    h.count++;
  }

  async render(): Promise<string> {
    // The text format wants each metric's HELP, TYPE and series together, in one group.
    const groups = new Map<string, string[]>();
    const add = (name: string, line: string) => {
      const g = groups.get(name);
      if (g) g.push(line);
      else groups.set(name, [line]);
    };
    const base = (k: string) => {
      const i = k.indexOf("{");
      return i < 0 ? k : k.slice(0, i);
    };
    for (const [k, v] of this.counters) add(base(k), `${k} ${v}`);
    for (const [name, read] of this.gauges) {
      try {
        for (const [suffix, v] of Object.entries(await read())) add(name, `${name}${suffix} ${v}`);
      } catch {
        /* a gauge whose source is down is left out of this scrape */
      }
    }
    for (const [k, h] of this.hist) {
      const [name, labels] = [base(k), k.slice(k.indexOf("{") + 1, -1)];
      for (const [i, b] of LATENCY_BUCKETS_MS.entries())
        add(name, `${name}_bucket{${labels},le="${b}"} ${h.buckets[i]}`);
      add(name, `${name}_bucket{${labels},le="+Inf"} ${h.count}`);
      add(name, `${name}_sum{${labels}} ${h.sum}`);
      add(name, `${name}_count{${labels}} ${h.count}`);
    }
    const out: string[] = [];
    for (const name of new Set([...this.help.keys(), ...groups.keys()])) {
      const h = this.help.get(name);
      if (h) out.push(`# HELP ${name} ${h[1]}`, `# TYPE ${name} ${h[0]}`);
      out.push(...(groups.get(name) ?? []));
    }
    return `${out.join("\n")}\n`;
  }
}

export function describeMetrics(m: Metrics) {
  m.describe("accepted_total", "counter", "POST /payments answered 202 (durably queued)");
  m.describe(
    "rejected_total",
    "counter",
    "POST /payments refused, by reason (bad field, queue unavailable or slow, overload)",
  );
  m.describe("pending_accepts", "gauge", "POST /payments waiting for the queue to take the payment");
  m.describe("forward_paced_waiting", "gauge", "payments waiting for their turn in the forwarding pace (FORWARD_RATE)");
  m.describe("forwarded_total", "counter", "payments recorded after a processor stored them, by processor");
  m.describe(
    "processor_responses_total",
    "counter",
    "processor answers by outcome (stored, duplicate, rejected, busy, malformed, in-doubt)",
  );
  m.describe("in_doubt_total", "counter", "payment requests that timed out or lost their connection");
  m.describe("forward_retries_total", "counter", "payments sent back to the queue, by reason");
  m.describe("router_decisions_total", "counter", "routing decisions by target");
  m.describe("duplicates_total", "counter", "queue messages dropped because another request owns the correlationId");
  m.describe("recovered_duplicates_total", "counter", "payments recorded from the processor's own row after a 422");
  m.describe("health_polls_total", "counter", "service-health polls by result");
  m.describe("ledger_entries_folded_total", "counter", "ledger entries older than the retention folded into buckets");
  m.describe("attempt_claims_expired_total", "counter", "attempt claims dropped at the end of the idempotency window");
  m.describe(
    "ledger_records_refused_old_total",
    "counter",
    "records refused as older than the folded horizon (not counted: a longer outage than the retention)",
  );
  m.describe("compaction_errors_total", "counter", "compaction runs that failed (retried on the next tick)");
  m.describe("processor_latency_ms", "histogram", "processor latency of stored payments");
}
