// Live progress: a redrawn bar on a terminal (~2 Hz), a plain line every ~5 s otherwise.
import { performance } from "node:perf_hooks";

export interface Live {
  elapsedS: number;
  totalS: number;
  vus: number;
  accepted: number;
  failed: number;
  counted: number | null;
  inconsistencies: number;
  p99: number;
  cpuPct: number | null;
  phase: string;
}

export function formatLine(l: Live, bar: boolean): string {
  const frac = Math.min(l.elapsedS / l.totalS, 1);
  const width = 24;
  const filled = Math.round(frac * width);
  const head = bar ? `[${"#".repeat(filled)}${".".repeat(width - filled)}] ` : "";
  return (
    `${head}${l.phase} ${l.elapsedS.toFixed(0)}/${l.totalS.toFixed(0)}s vus=${l.vus} accepted=${l.accepted} ` +
    `failed=${l.failed}` +
    ` counted=${l.counted ?? "?"} inconsistencies=${l.inconsistencies} p99~${l.p99.toFixed(2)}ms` +
    (l.cpuPct === null ? "" : ` runner-cpu=${l.cpuPct.toFixed(0)}%`)
  );
}

export function startProgress(read: () => Live, out: NodeJS.WriteStream = process.stderr): () => void {
  const tty = Boolean(out.isTTY);
  let last = 0;
  const timer = setInterval(
    () => {
      const now = performance.now();
      if (tty) {
        out.write(`\r\x1b[2K${formatLine(read(), true)}`);
      } else if (now - last >= 5000) {
        last = now;
        out.write(`${formatLine(read(), false)}\n`);
      }
    },
    tty ? 500 : 1000,
  );
  timer.unref();
  return () => {
    clearInterval(timer);
    out.write(tty ? `\r\x1b[2K${formatLine(read(), true)}\n` : `${formatLine(read(), false)}\n`);
  };
}
