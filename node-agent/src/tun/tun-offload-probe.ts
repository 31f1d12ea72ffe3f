/**
 * Exercises TUN offloads end to end; run by linux-tun.lab.test.ts inside a fresh network namespace
 * (`unshare --net`). Two TUN devices joined by this process, the way two agents are joined by the
 * overlay: what one device reads is written to the other. The second device is moved into a
 * namespace of its own (a child `unshare --net` that runs a TCP echo server), so the kernel routes
 * between them through the devices. A TCP stream of random bytes goes through and back, with the
 * offloads on both sides, on one side only, and off; every byte must come back intact. Then bursts
 * of same-size UDP datagrams go through and back (the writes may merge them into UDP super-packets
 * where the device has USO); every datagram that comes back must be the one sent. Prints one JSON
 * line: per case, whether the echoes matched and the addon's counters.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { LinuxTun, type TunOffloadStats } from "./linux-tun.js";

const BYTES = 8 * 1024 * 1024;
const PORT = 5001;

/** Datagrams in the UDP echo, sent in bursts so that one TUN read and one write see several. */
const DATAGRAMS = 2000;
const BURST = 50;
/** A full-size datagram at MTU 1400: 1400 - 20 (IPv4) - 8 (UDP). */
const DATAGRAM_BYTES = 1372;

const SERVER = `
const net = require("node:net");
const dgram = require("node:dgram");
const udp = dgram.createSocket("udp4");
udp.on("message", (m, from) => udp.send(m, from.port, from.address));
udp.bind(${PORT}, () => net.createServer((s) => s.pipe(s)).listen(${PORT}, () => console.log("ready")));
`;

interface CaseResult {
  readonly echoed: boolean;
  readonly udp: UdpEcho;
  /** Both devices have UDP segmentation offload (Linux 6.2 and later). */
  readonly uso: boolean;
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

interface UdpEcho {
  /** Datagrams that came back, and how many of them differed from what was sent. */
  readonly returned: number;
  readonly corrupt: number;
}

/** Sends numbered random datagrams in bursts and checks each echo against what was sent. */
async function udpEcho(): Promise<UdpEcho> {
  const socket = createSocket("udp4");
  const sent = new Map<number, Buffer>();
  let returned = 0;
  let corrupt = 0;
  socket.on("message", (m: Buffer) => {
    const original = m.length >= 4 ? sent.get(m.readUInt32BE(0)) : undefined;
    if (original === undefined || !original.equals(m)) corrupt++;
    else returned++;
  });
  await new Promise<void>((resolve) => socket.bind(0, resolve));
  for (let seq = 0; seq < DATAGRAMS; seq++) {
    const datagram = randomBytes(DATAGRAM_BYTES);
    datagram.writeUInt32BE(seq, 0);
    sent.set(seq, datagram);
    socket.send(datagram, PORT, "10.79.0.2");
    if (seq % BURST === BURST - 1) await new Promise((r) => setTimeout(r, 2));
  }
  // Echoes still in flight come back within this; a lost datagram is not an error here.
  await new Promise((r) => setTimeout(r, 500));
  socket.close();
  return { returned, corrupt };
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
    const udp = await udpEcho();
    return {
      echoed,
      udp,
      uso: a.offloads.uso && b.offloads.uso,
      offloads: [a.offloads.tso, b.offloads.tso],
      a: a.offloadStats(),
      b: b.offloadStats(),
    };
  } finally {
    a.close();
    b.close();
    server.kill("SIGKILL");
  }
}

execFileSync("ip", ["link", "set", "lo", "up"]);
const results = [await runCase(0, true, true), await runCase(1, true, false), await runCase(2, false, false)];
console.log(JSON.stringify(results));
