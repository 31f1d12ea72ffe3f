/**
 * Exercises TUN offloads end to end; run by linux-tun.lab.test.ts inside a fresh network namespace
 * (`unshare --net`). Two TUN devices joined by this process, the way two agents are joined by the
 * overlay: what one device reads is written to the other. The second device is moved into a
 * namespace of its own (a child `unshare --net` that runs a TCP echo server), so the kernel routes
 * between them through the devices. A TCP stream of random bytes goes through and back, with the
 * offloads on both sides, on one side only, and off; every byte must come back intact. Prints one
 * JSON line: per case, whether the echo matched and the addon's counters.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { connect } from "node:net";
import { LinuxTun, type TunOffloadStats } from "./linux-tun.js";

const BYTES = 8 * 1024 * 1024;
const PORT = 5001;

const SERVER = `
const net = require("node:net");
net.createServer((s) => s.pipe(s)).listen(${PORT}, () => console.log("ready"));
`;

interface CaseResult {
  readonly echoed: boolean;
  readonly offloads: [boolean, boolean];
  readonly a: TunOffloadStats;
  readonly b: TunOffloadStats;
}

async function startServer(): Promise<ChildProcess> {
  const child = spawn("unshare", ["--net", process.execPath, "-e", SERVER], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`echo server exited (${code})`)));
  });
  return child;
}

async function echo(): Promise<boolean> {
  const data = randomBytes(BYTES);
  const socket = connect({ host: "10.79.0.2", port: PORT });
  const hash = createHash("sha256");
  let received = 0;
  await new Promise<void>((resolve, reject) => {
    socket.on("error", reject);
    socket.on("data", (chunk: Buffer) => {
      hash.update(chunk);
      received += chunk.length;
      if (received >= BYTES) resolve();
    });
    socket.write(data);
  });
  socket.destroy();
  return received === BYTES && hash.digest("hex") === createHash("sha256").update(data).digest("hex");
}

async function runCase(index: number, offloadA: boolean, offloadB: boolean): Promise<CaseResult> {
  const server = await startServer();
  const a = LinuxTun.open(`opa${index}`, 1400, offloadA);
  const b = LinuxTun.open(`opb${index}`, 1400, offloadB);
  try {
    const peer = String(server.pid);
    execFileSync("ip", ["link", "set", b.name, "netns", peer]);
    execFileSync("ip", ["addr", "add", "10.79.0.1/24", "dev", a.name]);
    execFileSync("ip", ["link", "set", a.name, "mtu", "1400", "up"]);
    const inPeer = [`--net=/proc/${peer}/ns/net`, "ip"];
    execFileSync("nsenter", [...inPeer, "addr", "add", "10.79.0.2/24", "dev", b.name]);
    execFileSync("nsenter", [...inPeer, "link", "set", b.name, "mtu", "1400", "up"]);
    const fail = (error: Error) => {
      throw error;
    };
    a.start(
      (packet) => b.write(packet),
      fail,
      () => {},
    );
    b.start(
      (packet) => a.write(packet),
      fail,
      () => {},
    );
    const echoed = await echo();
    return { echoed, offloads: [a.offloads.tso, b.offloads.tso], a: a.offloadStats(), b: b.offloadStats() };
  } finally {
    a.close();
    b.close();
    server.kill("SIGKILL");
  }
}

execFileSync("ip", ["link", "set", "lo", "up"]);
const results = [await runCase(0, true, true), await runCase(1, true, false), await runCase(2, false, false)];
console.log(JSON.stringify(results));
