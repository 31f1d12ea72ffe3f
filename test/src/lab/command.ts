/**
 * Running short-lived commands and collecting their output. Used for `ip` itself and, through
 * `ip netns exec`, for commands inside lab namespaces.
 */
import { spawn, spawnSync } from "node:child_process";
import { LabError } from "../errors.js";

/** Outcome of a finished command. `code` is null when it died from a signal (e.g. our timeout). */
export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCommand}. */
export interface RunOptions {
  /** Kill the command (its whole process group) after this long. Default 60 s. */
  timeoutMs?: number;
  /** Written to the command's stdin, which is then closed. */
  input?: string | Uint8Array;
  /** Extra environment variables, merged over ours. */
  env?: NodeJS.ProcessEnv;
  /** Called with the child's pid once it started, so an owner can kill it during cleanup. */
  onSpawn?: (pid: number) => void;
}

/**
 * Runs `argv` to completion and resolves with its exit status and output; never rejects for a
 * non-zero exit, because callers (ping, status) want to look at failures, not catch them.
 * The child gets its own process group so a timeout also kills whatever it started.
 */
export function runCommand(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new TypeError("runCommand: empty argv"));
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      detached: true,
      env: options.env ? { ...process.env, ...options.env } : process.env,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    const timer = setTimeout(() => killGroup(child.pid, "SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new LabError("LAB_COMMAND_FAILED", `cannot run ${file}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Like {@link runCommand} but rejects with a {@link LabError} unless the command exits 0. */
export async function runChecked(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  const result = await runCommand(argv, options);
  if (result.code !== 0) throw commandFailed(argv, result);
  return result;
}

/**
 * Synchronous variant for the exit/signal cleanup path, where the event loop may not turn again.
 * Never throws; failures are in the result.
 */
export function runCommandSync(argv: readonly string[], timeoutMs = 10_000): CommandResult {
  const [file, ...args] = argv;
  const r = spawnSync(file ?? "false", args, { encoding: "utf8", timeout: timeoutMs });
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? "", stderr: r.stderr ?? r.error?.message ?? "" };
}

/** The error for a command that should have succeeded. */
export function commandFailed(argv: readonly string[], result: CommandResult): LabError {
  const how = result.code === null ? `was killed by ${result.signal}` : `exited ${result.code}`;
  const detail = (result.stderr.trim() || result.stdout.trim()).slice(0, 2000);
  return new LabError("LAB_COMMAND_FAILED", `\`${argv.join(" ")}\` ${how}${detail ? `: ${detail}` : ""}`);
}

/**
 * Sends `signal` to the process group led by `pid`. Children were started as group leaders
 * (`detached`), so this reaches grandchildren too (`ip netns exec` execs, node spawns helpers).
 * Returns false when no such group exists any more.
 */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}
