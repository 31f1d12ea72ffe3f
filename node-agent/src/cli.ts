#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { formatIpv4Interface, IdentityError, type Ipv4Interface } from "@ipop/shared";
import { pino } from "pino";
import { Agent, type RouteResult } from "./agent.js";
import { readBounded } from "./cert/files.js";
import {
  CertFileError,
  type Credentials,
  loadCredentials,
  processCertIo,
  runCertCommand,
  runTokenCommand,
} from "./cert/index.js";
import { type CliCommand, parseCli, type RouteOptions, type StatusOptions, type UpOptions, USAGE } from "./cli-args.js";
import { controlRequest } from "./control/control-client.js";
import { ControlServer } from "./control/control-server.js";
import { controlSocketPath } from "./control/socket-path.js";
import { AgentError, UsageError } from "./errors.js";
import { createLinkFactory } from "./link/backends.js";
import { type AgentStatus, formatRoute, formatStatus } from "./status.js";
import { LinuxTun } from "./tun/linux-tun.js";
import { configureTun } from "./tun/net-config.js";

async function main(argv: readonly string[]): Promise<number> {
  // `ipop token ...` parses its own arguments, like `ipop cert ...`.
  if (argv[0] === "token") return runTokenCommand(argv.slice(1), processCertIo());
  let command: CliCommand;
  try {
    command = parseCli(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`ipop: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
  switch (command.command) {
    case "help":
      process.stdout.write(`${USAGE}\n`);
      return 0;
    case "version": {
      const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
      process.stdout.write(`ipop ${pkg.version}\n`);
      return 0;
    }
    case "status":
      return status(command);
    case "route":
      return route(command);
    case "cert":
      return runCertCommand(command.argv, processCertIo());
    case "up":
      return up(command);
  }
}

async function status(options: StatusOptions): Promise<number> {
  const result = (await controlRequest(controlSocketPath(options.dev), { op: "status" })) as AgentStatus;
  process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `${formatStatus(result)}\n`);
  return 0;
}

async function route(options: RouteOptions): Promise<number> {
  const result = (await controlRequest(controlSocketPath(options.dev), { op: "route", ip: options.ip })) as RouteResult;
  process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `${formatRoute(result)}\n`);
  return result.complete && result.owner ? 0 : 1;
}

/** Largest revocation list file `--crl` reads. */
const MAX_CRL_FILE_BYTES = 512 * 1024;

/** Reads and checks the credentials (and revocation list) before anything is created. */
async function startingTrust(
  options: UpOptions,
): Promise<{ credentials: Credentials & { address: Ipv4Interface }; revocations?: string }> {
  const credentials = await loadCredentials({
    caPath: options.ca,
    certPath: options.cert,
    keyPath: options.key,
    nowMs: Date.now(),
    ...(options.network === undefined ? {} : { network: options.network }),
    ...(options.address === undefined ? {} : { ip: options.address }),
  });
  const { cert, address } = credentials;
  if (address === undefined) {
    throw new AgentError(
      "IPOP_USAGE",
      `${options.cert} lets this node claim an address from ${cert.pools?.join(", ")}: pick one with --ip A.B.C.D/N`,
    );
  }
  if (options.name !== undefined && options.name !== cert.name) {
    throw new AgentError(
      "IPOP_USAGE",
      `--name ${options.name} differs from the certificate's name "${cert.name}": leave --name out, or sign a certificate for ${options.name}`,
    );
  }
  if (options.crl === undefined) return { credentials: { ...credentials, address } };
  const bytes = await readBounded(options.crl, MAX_CRL_FILE_BYTES, `no revocation list at ${options.crl}`);
  return { credentials: { ...credentials, address }, revocations: Buffer.from(bytes).toString("utf8") };
}

async function up(options: UpOptions): Promise<number> {
  const logger = pino({ level: options.logLevel, base: { dev: options.dev } }, pino.destination(2));
  const trust = await startingTrust(options);
  const links = await createLinkFactory(options.webrtc);
  const tun = LinuxTun.open(options.dev, options.mtu);
  let control: ControlServer | undefined;
  try {
    await configureTun(tun.name, formatIpv4Interface(trust.credentials.address), options.mtu);
    let fatal: string | undefined;
    let stopNow: (signal: NodeJS.Signals) => void = () => {};
    const agent = new Agent({
      onFatal: (message) => {
        fatal = message;
        logger.error({ reason: message }, "cannot go on; stopping");
        stopNow("SIGTERM");
      },
      signalUrl: options.signal,
      ...trust,
      tun,
      links,
      iceServers: options.iceServers,
      maxLinks: options.maxLinks,
      logger,
    });
    control = await ControlServer.listen(controlSocketPath(tun.name), async (request) => {
      switch (request.op) {
        case "status":
          return agent.status();
        case "route":
          return agent.route(String(request.ip));
        default:
          throw new Error(`unknown op "${request.op}"`);
      }
    });
    agent.start();
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      stopNow = resolve;
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    logger.info({ signal }, "shutting down");
    // A second signal while shutting down means "now": the TUN device goes with the process.
    const force = () => process.exit(130);
    process.once("SIGINT", force);
    process.once("SIGTERM", force);
    await agent.stop();
    await control.close();
    logger.info("stopped; TUN device removed");
    if (fatal !== undefined) {
      process.stderr.write(`ipop: ${fatal}\n`);
      process.exit(1);
    }
    // WebRTC libraries may keep native threads alive; the work is done, so leave now.
    process.exit(0);
  } catch (error) {
    tun.close();
    await control?.close();
    throw error;
  }
}

process.on("uncaughtException", (error) => {
  process.stderr.write(`ipop: internal error: ${error.stack ?? error.message}\n`);
  process.exit(1);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const expected = error instanceof AgentError || error instanceof IdentityError || error instanceof CertFileError;
    const message = expected ? (error as Error).message : ((error as Error)?.stack ?? String(error));
    process.stderr.write(`ipop: ${message}\n`);
    process.exitCode = 1;
  },
);
