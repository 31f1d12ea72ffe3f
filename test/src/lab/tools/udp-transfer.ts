/**
 * Sends numbered UDP datagrams with a checkable payload and counts what arrives intact.
 *   recv --listen IP:PORT --count N [--idle-ms 3000] [--first-ms 15000]   prints `listening`, then
 *        {"received","unique","corrupt","duplicates"} once all N arrived, or nothing came for --idle-ms
 *        (--first-ms before the first datagram)
 *   send --to IP:PORT --count N [--size 1000] [--interval-ms 10]   prints {"sent"}
 * Give up after --timeout-ms (default 60000) with exit status 2.
 */
import { createSocket } from "node:dgram";
import { deadline, die, hostPort, parseArgs } from "./args.js";

const USAGE =
  "udp-transfer recv --listen IP:PORT --count N [--idle-ms MS] | send --to IP:PORT --count N [--size B] [--interval-ms MS]";
const args = parseArgs(process.argv.slice(2), USAGE);
deadline(args.num("timeout-ms", 60_000), "udp-transfer");

/** Datagram `seq` of `size` bytes: the sequence number, then bytes that depend on seq and position. */
function datagram(seq: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt32BE(seq, 0);
  for (let i = 4; i < size; i++) b[i] = (seq * 31 + i * 7) & 0xff;
  return b;
}

if (args.positional[0] === "recv") {
  const { host, port } = hostPort(args.need("listen"));
  const count = args.num("count");
  const idleMs = args.num("idle-ms", 3_000);
  const seen = new Set<number>();
  let received = 0;
  let corrupt = 0;
  let duplicates = 0;
  let idle: NodeJS.Timeout | undefined;
  const sock = createSocket("udp4");
  sock.on("error", die("udp-transfer recv"));
  const finish = () => {
    console.log(JSON.stringify({ received, unique: seen.size, corrupt, duplicates }));
    sock.close();
  };
  sock.on("message", (msg) => {
    received++;
    const seq = msg.length >= 4 ? msg.readUInt32BE(0) : -1;
    if (seq < 0 || seq >= count || !msg.equals(datagram(seq, msg.length))) corrupt++;
    else if (seen.has(seq)) duplicates++;
    else seen.add(seq);
    clearTimeout(idle);
    if (seen.size === count) finish();
    else idle = setTimeout(finish, idleMs);
  });
  sock.bind(port, host, () => {
    console.log(`listening ${host}:${port}`);
    // Report zero rather than time out silently when nothing ever arrives.
    idle = setTimeout(finish, args.num("first-ms", 15_000));
  });
} else if (args.positional[0] === "send") {
  const { host, port } = hostPort(args.need("to"));
  const count = args.num("count");
  const size = args.num("size", 1000);
  const intervalMs = args.num("interval-ms", 10);
  const sock = createSocket("udp4");
  sock.on("error", die("udp-transfer send"));
  for (let seq = 0; seq < count; seq++) {
    await new Promise<void>((resolve, reject) =>
      sock.send(datagram(seq, size), port, host, (e) => (e ? reject(e) : resolve())),
    );
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  console.log(JSON.stringify({ sent: count }));
  sock.close();
} else {
  console.error(`usage: ${USAGE}`);
  process.exit(64);
}
