import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A private redis-server for a test: on a unix socket in a fresh directory, no TCP, no persistence. */
export interface TestRedis {
  /** The socket path, usable as `--redis` and by `connectRedis`. */
  readonly url: string;
  /** Kills the server (SIGKILL: everything in it is lost) and starts a new, empty one on the same socket. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts Debian's redis-server (installed by scripts/system-deps.mjs --browser) for one test file. It
 * listens only on a unix socket in a directory of its own, so tests never meet another Redis.
 */
export async function startTestRedis(): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), "ipop-redis-"));
  const socket = join(dir, "redis.sock");
  let child: ChildProcess;
  let exited: Promise<void>;
  const start = async (): Promise<void> => {
    child = spawn(
      "redis-server",
      [
        "--port",
        "0",
        "--unixsocket",
        socket,
        "--unixsocketperm",
        "700",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir,
      ],
      { stdio: "ignore" },
    );
    const started = child;
    exited = new Promise<void>((resolve) => started.once("exit", () => resolve()));
    const deadline = Date.now() + 10_000;
    while (!existsSync(socket)) {
      if (started.exitCode !== null || Date.now() > deadline) {
        started.kill("SIGKILL");
        await rm(dir, { recursive: true, force: true });
        throw new Error("redis-server did not start (is it installed? node scripts/system-deps.mjs --browser)");
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  await start();
  return {
    url: socket,
    async restart() {
      child.kill("SIGKILL");
      await exited;
      await rm(socket, { force: true });
      await start();
    },
    async stop() {
      child.kill("SIGTERM");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
