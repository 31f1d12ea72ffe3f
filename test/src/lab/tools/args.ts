/**
 * Tiny `--key value` parser for the lab's helper scripts; they run inside namespaces with no
 * dependencies but node itself.
 */

/** Parsed `--key value` pairs plus positional words. */
export interface Args {
  positional: string[];
  get(key: string): string | undefined;
  /** The value of `--key`, or `fallback`; exits with a usage message when neither exists. */
  need(key: string, fallback?: string): string;
  /** A numeric `--key`. */
  num(key: string, fallback?: number): number;
}

/** Parses `argv` (without node and script path). */
export function parseArgs(argv: readonly string[], usage: string): Args {
  const values = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith("--")) values.set(a.slice(2), argv[++i] ?? "");
    else positional.push(a);
  }
  const fail = (msg: string): never => {
    console.error(`${msg}\nusage: ${usage}`);
    process.exit(64);
  };
  const need = (key: string, fallback?: string) => values.get(key) ?? fallback ?? fail(`missing --${key}`);
  return {
    positional,
    get: (key) => values.get(key),
    need,
    num: (key, fallback) => {
      const n = Number(need(key, fallback === undefined ? undefined : String(fallback)));
      return Number.isFinite(n) ? n : fail(`--${key} must be a number`);
    },
  };
}

/** Splits "10.88.0.2:5001" into host and port. */
export function hostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(":");
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
}

/** Exits with status 2 and a message after `ms`, so a lost peer cannot hang a test. */
export function deadline(ms: number, what: string): NodeJS.Timeout {
  const t = setTimeout(() => {
    console.error(`${what}: gave up after ${ms} ms`);
    process.exit(2);
  }, ms);
  t.unref();
  return t;
}

/** Exits with status 1 and the message; dgram bind errors would otherwise end the process silently with 0. */
export function die(what: string): (e: Error) => never {
  return (e) => {
    console.error(`${what}: ${e.message}`);
    process.exit(1);
  };
}
