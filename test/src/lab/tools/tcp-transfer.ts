/**
 * Moves random bytes over one TCP connection and reports their sha256 at both ends.
 *   serve --listen IP:PORT            accepts one connection, prints `listening`, then {"bytes","sha256"} at EOF
 *   send  --connect IP:PORT --bytes N sends N random bytes, prints {"bytes","sha256"} after the server closed;
 *         with --rate B no faster than B bytes a second (a stream that lasts while a test changes paths)
 * Both give up after --timeout-ms (default 120000) with exit status 2.
 */
import { createHash, randomBytes } from "node:crypto";
import { connect, createServer } from "node:net";
import { deadline, die, hostPort, parseArgs } from "./args.js";

const USAGE =
  "tcp-transfer serve --listen IP:PORT | send --connect IP:PORT --bytes N [--rate BYTES_PER_S] [--timeout-ms MS]";
const args = parseArgs(process.argv.slice(2), USAGE);
deadline(args.num("timeout-ms", 120_000), "tcp-transfer");
const CHUNK = 64 * 1024;

if (args.positional[0] === "serve") {
  const { host, port } = hostPort(args.need("listen"));
  const server = createServer((sock) => {
    server.close(); // one transfer per run
    const hash = createHash("sha256");
    let bytes = 0;
    sock.on("data", (b: Buffer) => {
      hash.update(b);
      bytes += b.length;
    });
    sock.on("end", () => {
      console.log(JSON.stringify({ bytes, sha256: hash.digest("hex") }));
      sock.end();
    });
    sock.on("close", () => process.exit(0));
  });
  server.on("error", die("tcp-transfer serve"));
  server.listen(port, host, () => console.log(`listening ${host}:${port}`));
} else if (args.positional[0] === "send") {
  const { host, port } = hostPort(args.need("connect"));
  const total = args.num("bytes");
  const rate = args.num("rate", 0);
  const sock = connect(port, host);
  const hash = createHash("sha256");
  let sent = 0;
  let failed = false;
  sock.on("connect", async () => {
    const startedAt = Date.now();
    while (sent < total) {
      // Paced: wait until the bytes sent so far are due at `rate`.
      const aheadMs = rate > 0 ? (sent / rate) * 1000 - (Date.now() - startedAt) : 0;
      if (aheadMs > 0) await new Promise((r) => setTimeout(r, aheadMs));
      const chunk = randomBytes(Math.min(CHUNK, total - sent));
      hash.update(chunk);
      sent += chunk.length;
      // Respect backpressure: without it all 20 MB would sit in our socket buffer at once.
      if (!sock.write(chunk)) await new Promise((r) => sock.once("drain", r));
    }
    sock.end();
  });
  sock.resume(); // the server sends nothing, but reading lets us see its FIN
  sock.on("error", (e) => {
    failed = true;
    console.error(`tcp-transfer send: ${e.message}`);
  });
  // Report only once the server closed, i.e. after it has read (and hashed) everything.
  sock.on("close", () => {
    console.log(JSON.stringify({ bytes: sent, sha256: hash.digest("hex") }));
    process.exit(failed ? 1 : 0);
  });
} else {
  console.error(`usage: ${USAGE}`);
  process.exit(64);
}
