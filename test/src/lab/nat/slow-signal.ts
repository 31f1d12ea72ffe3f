/**
 * A TCP proxy in front of the signaling server that holds everything the server sends to agents for
 * a fixed time, and passes what agents send at once. Signalling then lags the underlay, as it does
 * when the agents' event loops are starved on a loaded machine while the WebRTC stacks' own threads
 * keep running: an answerer's first ICE checks reach the offerer before its answer does.
 */

import { SIGNAL_PORT } from "../agents.js";
import type { Lab } from "../netns.js";
import type { LabProcess } from "../process.js";

/** Where the proxy listens, beside the signaling server in its namespace. */
export const SLOW_SIGNAL_PORT = SIGNAL_PORT + 1;

// Runs as `node -e`, arguments: listen port, signaling port, delay in ms. Order is kept: every chunk
// waits the same time, and timers of equal delay fire in the order they were set.
const PROXY = `
const net = require("node:net");
const [listen, target, delayMs] = process.argv.slice(1).map(Number);
net.createServer((client) => {
  const server = net.connect(target, "127.0.0.1");
  const close = () => { client.destroy(); server.destroy(); };
  client.on("error", close); server.on("error", close); client.on("close", close);
  client.pipe(server);
  server.on("data", (chunk) => setTimeout(() => client.writable && client.write(chunk), delayMs));
  server.on("end", () => setTimeout(() => client.end(), delayMs));
}).listen(listen, "0.0.0.0", () => console.log("slow signal listening on " + listen));
`;

/** A running proxy; agents use `url` in place of the signaling server's. */
export interface SlowSignal {
  readonly url: string;
  readonly proc: LabProcess;
}

/** Starts the proxy in the lab's signaling namespace; it is stopped with the lab. */
export async function startSlowSignal(lab: Lab, delayMs: number): Promise<SlowSignal> {
  const host = lab.signalHost;
  if (host === undefined) throw new Error("this lab has no signaling namespace");
  const argv = [process.execPath, "-e", PROXY, String(SLOW_SIGNAL_PORT), String(SIGNAL_PORT), String(delayMs)];
  const proc = lab.spawn(host, argv, { label: "slow signal" });
  await proc.waitForLine(/slow signal listening/, { timeoutMs: 20_000 });
  return { url: `ws://${lab.underlayIp(host)}:${SLOW_SIGNAL_PORT}`, proc };
}
