/**
 * A long-running process inside a lab namespace (signaling server, agent, background ping).
 * It leads its own process group, so killing it reaches everything it started.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { LabError } from "../errors.js";
import { killGroup } from "./command.js";

/** How a process ended. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Which output stream(s) {@link LabProcess.waitForLine} looks at. */
export type StreamName = "stdout" | "stderr" | "both";

/** Options of {@link LabProcess.waitForLine}. */
export interface WaitForLineOptions {
  /** Default 30 s. */
  timeoutMs?: number;
  /** Default "stdout". */
  stream?: StreamName;
}

/** Options of {@link LabProcess.spawn}. */
export interface LabProcessOptions {
  /** Extra environment variables, merged over ours. */
  env?: NodeJS.ProcessEnv;
  /** Prefix each output line with this and copy it to our stderr (for debugging a lab run). */
  echoPrefix?: string;
}

interface Waiter {
  re: RegExp;
  stream: StreamName;
  resolve: (m: RegExpExecArray) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Lines kept per stream; older ones are dropped so a chatty agent cannot grow us without bound. */
const MAX_LINES = 20_000;

/** A tracked child process. Create with {@link LabProcess.spawn}. */
export class LabProcess {
  /** Resolves when the process has exited and its output is drained. Never rejects. */
  readonly exited: Promise<ExitInfo>;
  readonly pid: number;
  #exit: ExitInfo | undefined;
  readonly #lines = { stdout: [] as string[], stderr: [] as string[] };
  readonly #waiters = new Set<Waiter>();

  private constructor(
    readonly label: string,
    readonly argv: readonly string[],
    child: ChildProcess,
    echoPrefix: string | undefined,
  ) {
    if (child.pid === undefined) throw new LabError("LAB_COMMAND_FAILED", `cannot start ${argv.join(" ")}`);
    this.pid = child.pid;
    for (const stream of ["stdout", "stderr"] as const) {
      let partial = "";
      child[stream]?.setEncoding("utf8");
      child[stream]?.on("data", (chunk: string) => {
        const parts = (partial + chunk).split("\n");
        partial = parts.pop() ?? "";
        for (const line of parts) this.#addLine(stream, line, echoPrefix);
      });
      child[stream]?.on("end", () => {
        if (partial) this.#addLine(stream, partial, echoPrefix);
        partial = "";
      });
    }
    this.exited = new Promise((resolve) => {
      child.on("close", (code, signal) => {
        this.#exit = { code, signal };
        for (const w of this.#waiters) {
          clearTimeout(w.timer);
          w.reject(this.#exitedError(`exited before printing a line matching ${w.re}`));
        }
        this.#waiters.clear();
        resolve(this.#exit);
      });
    });
  }

  /**
   * Starts `argv` in a new process group with stdin closed and stdout/stderr captured.
   * @param label - short name used in error messages, e.g. "h1 agent"
   */
  static spawn(label: string, argv: readonly string[], options: LabProcessOptions = {}): LabProcess {
    const [file, ...args] = argv;
    if (file === undefined) throw new TypeError("LabProcess.spawn: empty argv");
    const child = spawn(file, args, {
      detached: true,
      env: options.env ? { ...process.env, ...options.env } : process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    // A spawn failure (ENOENT) arrives as an event; without a listener it would crash the process.
    child.on("error", () => {});
    return new LabProcess(label, argv, child, options.echoPrefix);
  }

  /** How it ended, or undefined while it runs. */
  get exitInfo(): ExitInfo | undefined {
    return this.#exit;
  }

  /** Whether the process has not exited yet. */
  get running(): boolean {
    return this.#exit === undefined;
  }

  /** Output lines seen so far (the last {@link MAX_LINES} of each stream). */
  lines(stream: "stdout" | "stderr"): readonly string[] {
    return this.#lines[stream];
  }

  /** The last `n` lines of both streams, for error messages. */
  tail(n = 20): string {
    const pick = (s: "stdout" | "stderr") => this.#lines[s].slice(-n).map((l) => `  [${s}] ${l}`);
    return [...pick("stdout"), ...pick("stderr")].join("\n");
  }

  /**
   * Resolves with the first line (already seen or still to come) matching `re`.
   * Rejects if the process exits first or the timeout passes.
   */
  waitForLine(re: RegExp, options: WaitForLineOptions = {}): Promise<RegExpExecArray> {
    const stream = options.stream ?? "stdout";
    for (const s of streamsOf(stream)) {
      for (const line of this.#lines[s]) {
        const m = re.exec(line);
        if (m) return Promise.resolve(m);
      }
    }
    if (this.#exit) return Promise.reject(this.#exitedError(`exited before printing a line matching ${re}`));
    const timeoutMs = options.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        re,
        stream,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(
            new LabError(
              "LAB_TIMEOUT",
              `${this.label}: no line matching ${re} within ${timeoutMs} ms; output so far:\n${this.tail()}`,
            ),
          );
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  /** Sends `signal` to the whole process group. Harmless after exit. */
  kill(signal: NodeJS.Signals = "SIGTERM"): void {
    killGroup(this.pid, signal);
  }

  /**
   * Sends `signal`, waits up to `timeoutMs` for the exit, then SIGKILLs the group.
   * The final SIGKILL also goes out after a clean exit, for children that outlived their parent.
   */
  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 5_000): Promise<ExitInfo> {
    if (this.running) this.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    const info = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    this.kill("SIGKILL");
    return info ?? this.exited;
  }

  #addLine(stream: "stdout" | "stderr", line: string, echoPrefix: string | undefined): void {
    const kept = this.#lines[stream];
    kept.push(line);
    if (kept.length > MAX_LINES) kept.splice(0, kept.length - MAX_LINES);
    if (echoPrefix !== undefined) process.stderr.write(`${echoPrefix}${line}\n`);
    for (const w of this.#waiters) {
      if (w.stream !== "both" && w.stream !== stream) continue;
      const m = w.re.exec(line);
      if (!m) continue;
      clearTimeout(w.timer);
      this.#waiters.delete(w);
      w.resolve(m);
    }
  }

  #exitedError(what: string): LabError {
    const e = this.#exit;
    const how = e?.code === null ? `signal ${e?.signal}` : `code ${e?.code}`;
    return new LabError("LAB_PROCESS_EXITED", `${this.label} ${what} (${how}); output:\n${this.tail()}`);
  }
}

function streamsOf(s: StreamName): ("stdout" | "stderr")[] {
  return s === "both" ? ["stdout", "stderr"] : [s];
}
