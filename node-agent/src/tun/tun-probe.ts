/**
 * Exercises a real TUN device end to end; run by linux-tun.lab.test.ts inside a fresh network
 * namespace (`unshare --net`), so its addresses and packets exist nowhere else. Prints one JSON line.
 */

import { execFileSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { checkIpv4Packet, internetChecksum, ipv4Destination, ipv4Protocol, ipv4Source } from "@ipop/shared";
import { LinuxTun } from "./linux-tun.js";
import { configureTun } from "./net-config.js";

const LOCAL = 0x0a4d0001; // 10.77.0.1
const REMOTE = 0x0a4d0002; // 10.77.0.2

const tun = LinuxTun.open("probe0", 1400);
await configureTun(tun.name, "10.77.0.1/24", 1400);
// /sys shows the namespace it was mounted in, not ours: ask iproute2.
const linkInfo = (dev: string) =>
  JSON.parse(execFileSync("ip", ["-j", "link", "show"], { encoding: "utf8" })).find(
    (l: { ifname: string }) => l.ifname === dev,
  );
const txqueuelen = String(linkInfo(tun.name)?.txqlen);
const socket = createSocket("udp4");
await new Promise<void>((resolve) => socket.bind(40000, "10.77.0.1", resolve));

const seen = await new Promise<{ headroomWritable: boolean; packet: Uint8Array }>((resolve) => {
  tun.start(
    (packet) => {
      if (checkIpv4Packet(packet) !== null || ipv4Protocol(packet) !== 17) return; // skip unrelated noise
      const frame = new Uint8Array(packet.buffer, packet.byteOffset - tun.headroom, packet.length + tun.headroom);
      frame[0] = 0xaa; // headroom belongs to us
      resolve({ headroomWritable: frame[0] === 0xaa, packet: packet.slice() });
    },
    (error) => {
      throw error;
    },
    () => {},
  );
  socket.send("hello tun", 40001, "10.77.0.2");
});

// Answer with the mirror image: swap addresses and ports, fix the header checksum, drop the UDP one.
const reply = seen.packet.slice();
const view = new DataView(reply.buffer);
view.setUint32(12, REMOTE);
view.setUint32(16, LOCAL);
view.setUint16(10, 0);
view.setUint16(10, internetChecksum(reply, 0, 20));
view.setUint16(20, 40001);
view.setUint16(22, 40000);
view.setUint16(26, 0);
const received = new Promise<string>((resolve) => socket.once("message", (msg) => resolve(msg.toString())));
const written = tun.write(reply);
const answer = await received;
// With offloads the kernel leaves a UDP checksum for the device to finish: the agent must have done so.
const udpLength = seen.packet.length - 20;
const pseudo = internetChecksum(seen.packet, 12, 20) ^ 0xffff;
const checksumValid =
  internetChecksum(seen.packet, 20, seen.packet.length, pseudo + 17 + udpLength) === 0 &&
  (seen.packet[26]! | seen.packet[27]!) !== 0;
tun.close();
socket.close();
const deviceGone = linkInfo("probe0") === undefined;
console.log(
  JSON.stringify({
    txqueuelen,
    headroomWritable: seen.headroomWritable,
    src: ipv4Source(seen.packet) === LOCAL,
    dst: ipv4Destination(seen.packet) === REMOTE,
    written,
    answer,
    offloads: tun.offloads.tso,
    checksumValid,
    writeAfterClose: tun.write(reply),
    deviceGone,
  }),
);
