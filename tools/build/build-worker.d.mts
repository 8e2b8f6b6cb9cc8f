// Types for tools/build/build-worker.mjs (imported by the Workers tests and tools/build/dev-worker.ts).
export interface BuildWorkerOptions {
  /** Default dist/worker.js (absolute or relative to the repository). */
  outfile?: string;
  /** Default adapters/runtimes/workers/worker.ts (relative to the repository). */
  entry?: string;
  minify?: boolean;
}
export function buildWorker(options?: BuildWorkerOptions): Promise<string>;
