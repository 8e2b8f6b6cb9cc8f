// Command-line numbers for benchmarks and tools that take `--name value` pairs.

/** The positive number after `--name`, or `fallback` when the flag is absent; a bad value stops with a message. */
export function positiveArg(name: string, fallback: number, argv: readonly string[] = process.argv): number {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(argv[i + 1]);
  if (!(v > 0)) throw new Error(`--${name} needs a positive number, got ${argv[i + 1]}`);
  return v;
}
