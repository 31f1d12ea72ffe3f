#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=1
// A 1 MiB young generation (V8's default grows to 16 MiB per semi-space under the packet path's
// short-lived garbage) cut the agent's peak RSS from ~105 to ~90 MB in the bench, at no measurable
// CPU cost. At most 2 glibc malloc arenas (instead of one per thread that allocates: Node's and
// libdatachannel's threads made 10) cut an idle agent with 10 links by ~2 MiB and the bench's peak
// by ~4 MiB, again at no measurable cost (docs/bench.md, "Memory"). The lab and the bench start the
// agent with this line's environment and flags too (test/src/lab/launcher.ts).
import { existsSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { formatIpv4Interface, IdentityError } from "@ipop/shared";
import { pino } from "pino";
import { Agent } from "./agent.js";
import {
  type CliCommand,
  type DownOptions,
  type PingOptions,
  parseCli,
  type RouteOptions,
  type StatusOptions,
  type UpOptions,
  USAGE,
} from "./cli-args.js";
import { ControlServer } from "./control/control-server.js";
import { controlSocketPath } from "./control/socket-path.js";
import { DNS_PORT, DnsServer } from "./dns/dns-server.js";
import { registerWithResolved } from "./dns/resolved.js";
import { AgentError, ConfigError, ControlError, UsageError } from "./errors.js";
import { iceServersFor, loadTurnCredentials } from "./ice-config.js";
import { LeaseKeeper } from "./lease-keeper.js";
import { createLinkFactory } from "./link/backends.js";
import type { AgentMetrics } from "./metrics/agent-metrics.js";
import type { MetricsServer } from "./metrics/metrics-server.js";
import { formatPingReply, formatPingSummary, type PingReply, pingSucceeded, runPings } from "./ping.js";
import { loadSignalCa } from "./signal-tls.js";
import { signalUrls } from "./signaling-client.js";
import { type AgentStatus, formatRoute, formatStatus, type RouteResult } from "./status.js";
import { LinuxTun, type TunOffloads } from "./tun/linux-tun.js";
import { configureTun } from "./tun/net-config.js";
import { startingCredentials } from "./up-credentials.js";

/** Signals closer together than this are one operator action delivered twice, not a second request. */
const REPEATED_SIGNAL_MS = 1_000;

// The commands other than `up` (cert, token, netcheck, and the control client that status, route,
// ping and down use) are imported when they run: a long-running agent never needs their code, and
// every module it loads stays in its heap.

/** The control client's request, loaded on first use. */
async function controlRequest(path: string, request: { op: string } & Record<string, unknown>): Promise<unknown> {
  return (await import("./control/control-client.js")).controlRequest(path, request);
}

async function main(argv: readonly string[]): Promise<number> {
  // `ipop token ...` parses its own arguments, like `ipop cert ...`.
  if (argv[0] === "token") {
    const cert = await import("./cert/index.js");
    return cert.runTokenCommand(argv.slice(1), cert.processCertIo());
  }
  let command: CliCommand;
  try {
    command = parseCli(argv, process.env);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`ipop: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    // The message names the file and the setting; the usage would bury it.
    if (error instanceof ConfigError) {
      process.stderr.write(`ipop: ${error.message}\n`);
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
    case "ping":
      return ping(command);
    case "down":
      return down(command);
    case "netcheck": {
      const { formatNetcheck, netcheck } = await import("./netcheck/netcheck.js");
      const report = await netcheck(command.servers);
      process.stdout.write(command.json ? `${JSON.stringify(report)}\n` : `${formatNetcheck(report)}\n`);
      return report.udp ? 0 : 1;
    }
    case "cert": {
      const cert = await import("./cert/index.js");
      return cert.runCertCommand(command.argv, cert.processCertIo());
    }
    case "up":
      return up(command);
  }
}

async function status(options: StatusOptions): Promise<number> {
  const request = options.target === undefined ? { op: "status" } : { op: "status", node: options.target };
  const result = (await controlRequest(controlSocketPath(options.dev), request)) as AgentStatus;
  process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `${formatStatus(result, options.target)}\n`);
  return 0;
}

async function route(options: RouteOptions): Promise<number> {
  const result = (await controlRequest(controlSocketPath(options.dev), {
    op: "route",
    ip: options.target,
  })) as RouteResult;
  process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `${formatRoute(result)}\n`);
  return result.complete && result.owner ? 0 : 1;
}

async function ping(options: PingOptions): Promise<number> {
  const path = controlSocketPath(options.dev);
  const report = await runPings(
    options.target,
    options,
    async () => (await controlRequest(path, { op: "ping", node: options.target })) as PingReply,
    (seq, reply) => {
      if (!options.json) process.stdout.write(`${formatPingReply(seq, reply)}\n`);
    },
    (ms) => sleep(ms),
  );
  process.stdout.write(
    options.json ? `${JSON.stringify(report)}\n` : `${formatPingSummary(report, options.untilDirect)}\n`,
  );
  return pingSucceeded(report, options.untilDirect) ? 0 : 1;
}

/** How long `ipop down` waits for the agent to finish its shutdown (it takes well under a second). */
const DOWN_WAIT_MS = 15_000;

async function down(options: DownOptions): Promise<number> {
  const path = controlSocketPath(options.dev);
  const node = (await controlRequest(path, { op: "down" })) as { name: string; ip: string };
  // The agent removes its socket once links are closed and the TUN device is gone, then exits.
  const deadline = Date.now() + DOWN_WAIT_MS;
  while (existsSync(path)) {
    if (Date.now() > deadline) throw new ControlError(`the agent on ${options.dev} did not stop within 15 s`);
    await sleep(50);
  }
  process.stdout.write(`stopped ${node.name} (${node.ip}) on ${options.dev}\n`);
  return 0;
}

async function up(options: UpOptions): Promise<number> {
  const logger = pino({ level: options.logLevel, base: { dev: options.dev } }, pino.destination(2));
  const signalCa = options.signalCa === undefined ? undefined : await loadSignalCa(options.signalCa);
  const { issued, ...trust } = await startingCredentials(options, process.env, signalCa);
  // Checked before any device exists: a TURN URL without credentials is a usage error.
  const iceServers = iceServersFor(
    options.iceServers,
    await loadTurnCredentials(options.turnCredentialsFile, process.env),
  );
  const plainLinks = await createLinkFactory(options.webrtc);
  // IPOP_TUN_OFFLOAD=0 keeps the device plain (one packet per read and write), for comparison.
  const tun = LinuxTun.open(options.dev, options.mtu, process.env.IPOP_TUN_OFFLOAD !== "0");
  // IPOP_RTT_TRACE=DIR stamps every ping on its way through (trace/rtt-trace.ts); loaded only then.
  const rttTraceDir = process.env.IPOP_RTT_TRACE ?? "";
  const { links, tun: agentTun } =
    rttTraceDir === ""
      ? { links: plainLinks, tun }
      : (await import("./trace/rtt-trace.js")).tracedPath(rttTraceDir, plainLinks, tun);
  logger.info({ dev: tun.name, offloads: tun.offloads }, describeOffloads(tun.offloads));
  let control: ControlServer | undefined;
  let metricsServer: MetricsServer | undefined;
  let dns: DnsServer | undefined;
  try {
    await configureTun(tun.name, formatIpv4Interface(trust.credentials.address), options.mtu, options.multicast);
    let fatal: string | undefined;
    let stopNow: (reason: NodeJS.Signals | "ipop down") => void = () => {};
    const fail = (message: string) => {
      fatal = message;
      logger.error({ reason: message }, "cannot go on; stopping");
      stopNow("SIGTERM");
    };
    // Off unless asked for: nothing listens on the network that the operator did not name. Loaded
    // only then too: prom-client and the HTTP server cost an agent without metrics memory for nothing.
    const metrics: AgentMetrics | undefined =
      options.metrics === undefined
        ? undefined
        : new (await import("./metrics/agent-metrics.js")).AgentMetrics(() => agent.status());
    const agent: Agent = new Agent({
      onFatal: fail,
      ...(metrics === undefined ? {} : { onEvent: (event) => metrics.observe(event) }),
      signalUrl: options.signal,
      ...(signalCa === undefined ? {} : { signalCa }),
      ...trust,
      tun: agentTun,
      links,
      iceServers,
      maxLinks: options.maxLinks,
      multicast: options.multicast,
      operatorGroup: options.operatorGroup,
      logger,
    });
    control = await ControlServer.listen(controlSocketPath(tun.name), async (request) => {
      switch (request.op) {
        case "status":
          return agent.status(typeof request.node === "string" ? request.node : undefined);
        case "route":
          return agent.route(String(request.ip));
        case "routes":
          return agent.routes(request.ips);
        case "ping":
          return agent.ping(String(request.node));
        case "down":
          // Answer first; the shutdown (the same as on SIGTERM) starts once the answer is out.
          setImmediate(() => stopNow("ipop down"));
          return { name: agent.node.self.name, ip: agent.node.self.ip };
        default:
          throw new ControlError(`unknown op "${request.op}"`);
      }
    });
    if (metrics !== undefined && options.metrics !== undefined) {
      const { host, port } = options.metrics;
      const { formatListen, startMetricsServer } = await import("./metrics/metrics-server.js");
      metricsServer = await startMetricsServer(host, port, () => metrics.render());
      logger.info(
        { metrics: `http://${formatListen(metricsServer.host, metricsServer.port)}/metrics` },
        "serving metrics",
      );
    }
    if (options.dns) dns = await startDns(agent, tun.name, logger);
    agent.start();
    const lease =
      issued === undefined
        ? undefined
        : new LeaseKeeper({
            // Certificates are renewed through the first server; any of them with the CA key would do.
            url: signalUrls(options.signal)[0] ?? options.signal,
            ...(signalCa === undefined ? {} : { signalCa }),
            issued,
            seed: trust.credentials.keySeed,
            onRenewed: (renewed) => agent.renewCertificate(renewed.cert, renewed.certText),
            onFailure: (message, willRetry) => {
              logger.warn({ reason: message, willRetry }, "certificate renewal failed");
              if (!willRetry) fail(`the certificate expires and could not be renewed: ${message}`);
            },
          });
    lease?.start();
    const signal = await new Promise<NodeJS.Signals | "ipop down">((resolve) => {
      stopNow = resolve;
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    logger.info({ signal }, "shutting down");
    // A second signal while shutting down means "now": the TUN device goes with the process. One
    // within a second of the first is the same Ctrl-C delivered twice (the terminal signals the
    // process group, and npx passes it on): peers would not be told.
    const firstAt = Date.now();
    const force = () => {
      if (Date.now() - firstAt >= REPEATED_SIGNAL_MS) process.exit(130);
    };
    process.on("SIGINT", force);
    process.on("SIGTERM", force);
    lease?.stop();
    await agent.stop();
    await control.close();
    await metricsServer?.close();
    await dns?.close();
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
    await metricsServer?.close();
    await dns?.close();
    throw error;
  }
}

/**
 * Answers DNS for NAME.NETWORK.ipop on the virtual IP (the TUN device is configured, so the address
 * is there to bind) and tells systemd-resolved, if it runs. Names are a convenience: when port 53
 * cannot be had (another server holds it on every address), the agent logs why and runs without.
 */
async function startDns(agent: Agent, dev: string, logger: pino.Logger): Promise<DnsServer | undefined> {
  const { ip } = agent.node.self;
  const zone = `${agent.node.network}.ipop`.toLowerCase();
  try {
    const server = await DnsServer.listen({
      host: ip,
      port: DNS_PORT,
      zone,
      lookup: (name) => agent.addressOfName(name),
      onDrop: (reason) => agent.countHostDrop(`dns-${reason}`),
      logger,
    });
    logger.info({ zone, listen: `${ip}:${DNS_PORT}` }, "answering DNS");
    await registerWithResolved(dev, ip, zone, logger);
    return server;
  } catch (error) {
    logger.warn(
      { zone, reason: (error as Error).message },
      "cannot answer DNS on the virtual IP; running without names",
    );
    return undefined;
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
    const expected = error instanceof AgentError || error instanceof IdentityError;
    const message = expected ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`ipop: ${message}\n`);
    process.exitCode = 1;
  },
);

/** The start-up log line about TUN offloads: what is on, and why less than everything is. */
function describeOffloads(offloads: TunOffloads): string {
  if (offloads.tso && offloads.uso) return "TUN offloads on: TCP and UDP segmentation, checksums, write coalescing";
  if (offloads.tso)
    return "TUN offloads on: TCP segmentation, checksums, write coalescing (no UDP segmentation in this kernel)";
  if (offloads.vnetHeader)
    return "TUN offloads partly refused by the kernel: no segmentation offload; writes are still coalesced";
  return process.env.IPOP_TUN_OFFLOAD === "0"
    ? "TUN offloads off (IPOP_TUN_OFFLOAD=0): one packet per read and write"
    : "TUN offloads refused (no virtio-net header on this kernel or device): one packet per read and write";
}
