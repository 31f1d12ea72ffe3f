/**
 * Data transfers between lab hosts over the overlay, using the helper scripts in ./tools, each run
 * with `ip netns exec <ns> node <script>` so the kernel of each namespace does the TCP/UDP.
 */
import { LabError } from "../errors.js";
import type { Lab } from "./netns.js";
import { tool } from "./paths.js";

/** What each end of a TCP transfer saw. */
export interface TcpTransferResult {
  sent: { bytes: number; sha256: string };
  received: { bytes: number; sha256: string };
}

/** What the UDP receiver counted. */
export interface UdpTransferResult {
  sent: number;
  received: number;
  unique: number;
  corrupt: number;
  duplicates: number;
}

/** Options shared by the transfers. */
export interface TransferOptions {
  port?: number;
  timeoutMs?: number;
  /** TCP only: send no faster than this many bytes a second (default: as fast as it goes). */
  rateBytesPerS?: number;
}

/**
 * Sends `bytes` random bytes over TCP from `from` to `to`, which listens on `toIp`.
 * @throws LabError when either end fails or prints no result
 */
export async function tcpTransfer(
  lab: Lab,
  from: string,
  to: string,
  toIp: string,
  bytes: number,
  options: TransferOptions = {},
): Promise<TcpTransferResult> {
  const addr = `${toIp}:${options.port ?? 5201}`;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const t = String(timeoutMs);
  const server = lab.spawn(to, [process.execPath, tool("tcp-transfer"), "serve", "--listen", addr, "--timeout-ms", t], {
    label: `${to} tcp sink`,
  });
  try {
    await server.waitForLine(/^listening/, { timeoutMs: 10_000 });
    const argv = [process.execPath, tool("tcp-transfer"), "send", "--connect", addr, "--bytes", String(bytes)];
    if (options.rateBytesPerS !== undefined) argv.push("--rate", String(options.rateBytesPerS));
    const client = await lab.exec(from, [...argv, "--timeout-ms", t], { timeoutMs: timeoutMs + 5_000 });
    const serverLine = await server.waitForLine(/^\{/, { timeoutMs: 10_000 });
    return {
      sent: jsonResult<TcpTransferResult["sent"]>(
        client.stdout,
        `${from} tcp source (exit ${client.code}): ${client.stderr}`,
      ),
      received: jsonResult<TcpTransferResult["received"]>(serverLine.input, `${to} tcp sink`),
    };
  } finally {
    await server.stop("SIGKILL", 1_000);
  }
}

/** Sends `count` datagrams of `size` bytes, `intervalMs` apart, from `from` to `to` listening on `toIp`. */
export async function udpTransfer(
  lab: Lab,
  from: string,
  to: string,
  toIp: string,
  count: number,
  options: TransferOptions & { size?: number; intervalMs?: number } = {},
): Promise<UdpTransferResult> {
  const addr = `${toIp}:${options.port ?? 5202}`;
  const timeoutMs = String(options.timeoutMs ?? 60_000);
  const recvArgv = ["recv", "--listen", addr, "--count", String(count), "--timeout-ms", timeoutMs];
  const receiver = lab.spawn(to, [process.execPath, tool("udp-transfer"), ...recvArgv], { label: `${to} udp sink` });
  try {
    await receiver.waitForLine(/^listening/, { timeoutMs: 10_000 });
    const sendArgv = ["send", "--to", addr, "--count", String(count), "--timeout-ms", timeoutMs];
    sendArgv.push("--size", String(options.size ?? 1000), "--interval-ms", String(options.intervalMs ?? 10));
    const sender = await lab.exec(from, [process.execPath, tool("udp-transfer"), ...sendArgv]);
    const sent = jsonResult<{ sent: number }>(
      sender.stdout,
      `${from} udp source (exit ${sender.code}): ${sender.stderr}`,
    );
    const line = await receiver.waitForLine(/^\{/, { timeoutMs: 30_000 });
    const counts = jsonResult<Omit<UdpTransferResult, "sent">>(line.input, `${to} udp sink`);
    return { sent: sent.sent, ...counts };
  } finally {
    await receiver.stop("SIGKILL", 1_000);
  }
}

/** The first JSON line a tool printed; the tools are ours, so its shape is trusted. */
function jsonResult<T>(stdout: string, context: string): T {
  const line = stdout.split("\n").find((l) => l.startsWith("{"));
  if (!line) throw new LabError("LAB_COMMAND_FAILED", `no result from ${context}`);
  return JSON.parse(line) as T;
}
