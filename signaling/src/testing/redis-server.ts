import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A private redis-server for a test: on a unix socket in a fresh directory, no TCP, no persistence. */
export interface TestRedis {
  /** The socket path, usable as `--redis` and by `connectRedis`. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts Debian's redis-server (installed by scripts/system-deps.mjs --browser) for one test file. It
 * listens only on a unix socket in a directory of its own, so tests never meet another Redis.
 */
export async function startTestRedis(): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), "ipop-redis-"));
  const socket = join(dir, "redis.sock");
  const child: ChildProcess = spawn(
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
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!existsSync(socket)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      await rm(dir, { recursive: true, force: true });
      throw new Error("redis-server did not start (is it installed? node scripts/system-deps.mjs --browser)");
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    url: socket,
    async stop() {
      child.kill("SIGTERM");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
