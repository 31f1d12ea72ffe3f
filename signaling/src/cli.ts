#!/usr/bin/env node
/**
 * `ipop-signal`: runs the signaling server until SIGINT or SIGTERM. With TLS, SIGHUP reloads the
 * certificate and key (after a renewal), keeping the old pair if the new one is not usable.
 * Exit status: 0 after a clean shutdown, 1 when the server cannot start, 2 for bad arguments.
 */
import { errorMessage } from "@ipop/shared";
import type { Redis } from "ioredis";
import type { AuthorityOptions } from "./authority.js";
import { loadAuthorityFiles } from "./authority-files.js";
import { newInstanceId } from "./cluster/redis-cluster.js";
import { CaError, OptionError, SignalServerError, StoreError, TlsError, TurnError } from "./errors.js";
import { createLogger, type SignalLogger } from "./logger.js";
import { type CliCommand, parseCliArgs, USAGE } from "./options.js";
import { type SignalServer, startSignalServer } from "./server.js";
import { FileStateStore } from "./store/file-store.js";
import { connectRedis, RedisStateStore } from "./store/redis-store.js";
import type { SignalStateStore } from "./store/state-store.js";
import { loadTlsFiles, type TlsPaths } from "./tls-files.js";
import { loadTurnIssuer } from "./turn-grants.js";

// If clients keep a shutdown from finishing (the server already terminates them after a grace period),
// exit anyway rather than hang a service manager.
const SHUTDOWN_DEADLINE_MS = 10_000;
/** Signals closer together than this are one operator action delivered twice, not a second request. */
const REPEATED_SIGNAL_MS = 1_000;

async function main(argv: readonly string[]): Promise<number> {
  let command: ReturnType<typeof parseCliArgs>;
  try {
    command = parseCliArgs(argv);
  } catch (err) {
    return usageError(err);
  }
  if (command.kind === "help") {
    process.stdout.write(USAGE);
    return 0;
  }

  const logger = createLogger(command.logLevel);
  process.on("uncaughtException", (err) => {
    logger.error({ err: err.stack ?? err.message }, "uncaught exception, exiting");
    process.exit(1);
  });
  process.on("unhandledRejection", (reason) => {
    logger.error({ err: String(reason) }, "unhandled rejection, exiting");
    process.exit(1);
  });

  let server: Awaited<ReturnType<typeof startSignalServer>>;
  let store: SignalStateStore | undefined;
  let cluster: { redis: Redis; instance: string } | undefined;
  try {
    const authority: AuthorityOptions | undefined =
      command.authority === undefined ? undefined : await loadAuthorityFiles(command.authority, logger);
    const tls = command.tls === undefined ? undefined : await loadTlsFiles(command.tls);
    const turn = command.turn === undefined ? undefined : await loadTurnIssuer(command.turn);
    if (command.redis !== undefined) {
      const instance = newInstanceId();
      store = new RedisStateStore(await connectRedis(command.redis, logger), instance, logger);
      cluster = { redis: await connectRedis(command.redis, logger), instance };
      logger.info({ instance }, "sharing networks with the other instances on Redis");
    } else {
      store = await openStore(command, logger);
    }
    server = await startSignalServer({
      host: command.host,
      port: command.port,
      limits: command.limits,
      logger,
      ...(authority === undefined ? {} : { authority }),
      ...(tls === undefined ? {} : { tls }),
      ...(command.consoleDir === undefined ? {} : { consoleDir: command.consoleDir }),
      ...(turn === undefined ? {} : { turn }),
      ...(store === undefined ? {} : { store }),
      ...(cluster === undefined ? {} : { cluster }),
    });
  } catch (err) {
    await store?.close().catch(() => undefined);
    cluster?.redis.disconnect();
    if (err instanceof OptionError) return usageError(err);
    if (err instanceof CaError || err instanceof TlsError || err instanceof TurnError || err instanceof StoreError) {
      process.stderr.write(`ipop-signal: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`ipop-signal: ${errorMessage(err)}\n`);
    return 1;
  }
  if (command.tls !== undefined) reloadOnHangup(server, command.tls, logger);
  // Scripts and tests parse this line to learn the port when 0 was asked for.
  process.stdout.write(`listening on ${server.url}\n`);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  logger.info({ signal }, "shutting down");
  setTimeout(() => {
    logger.error({}, "shutdown took too long, exiting");
    process.exit(1);
  }, SHUTDOWN_DEADLINE_MS).unref();
  // A second signal means the operator does not want to wait; one within a second of the first is
  // the same Ctrl-C delivered twice (the terminal signals the process group, and npx passes it on).
  const firstAt = Date.now();
  const forceExit = () => {
    if (Date.now() - firstAt >= REPEATED_SIGNAL_MS) process.exit(1);
  };
  process.on("SIGINT", forceExit);
  process.on("SIGTERM", forceExit);
  await server.close();
  await store?.close();
  await cluster?.redis.quit();
  return 0;
}

/** The store `--state-dir` asks for; none (leases in memory) without it. */
async function openStore(
  command: Extract<CliCommand, { kind: "run" }>,
  logger: SignalLogger,
): Promise<SignalStateStore | undefined> {
  if (command.stateDir === undefined) return undefined;
  const store = await FileStateStore.open(command.stateDir, logger);
  logger.info({ stateDir: command.stateDir }, "keeping leases and revocation lists in the state directory");
  return store;
}

/**
 * Reloads the TLS files on each SIGHUP, one reload at a time. A pair that fails the checks is logged
 * and refused; the server keeps serving the one it has.
 */
function reloadOnHangup(server: SignalServer, paths: TlsPaths, logger: SignalLogger): void {
  let queue = Promise.resolve();
  process.on("SIGHUP", () => {
    queue = queue.then(async () => {
      try {
        server.reloadTls(await loadTlsFiles(paths));
      } catch (err) {
        logger.error({ err: errorMessage(err) }, "TLS reload refused; still serving the previous certificate");
      }
    });
  });
}

function usageError(err: unknown): number {
  if (!(err instanceof SignalServerError)) throw err;
  process.stderr.write(`ipop-signal: ${err.message}\nRun \`ipop-signal --help\` for usage.\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Never a stack trace for the user; the message is enough to act on, and logs carry the rest.
    process.stderr.write(`ipop-signal: ${errorMessage(err)}\n`);
    process.exit(1);
  },
);
