// Installs the Debian packages the tests and the demo need when they are missing, so `npm test` and
// `npm run demo` work on a fresh machine. Needs root to install; otherwise it says what is missing.
//   node scripts/system-deps.mjs            what the agents, the lab and the demo need
//   node scripts/system-deps.mjs --browser  and what only the tests need: Chromium, systemd-analyze (`npm test`)
import { execFileSync, spawnSync } from "node:child_process";

/** command on PATH -> Debian package that provides it */
const needed = {
  ip: "iproute2",
  ping: "iputils-ping",
  // The TLS tests make their certificates with it.
  openssl: "openssl",
  // The NAT lab (test/src/lab/nat, npm run bench:nat): nftables builds the NAT boxes, coturn is its
  // STUN/TURN server (run by the tests with their own config; the Debian service is not used), and
  // conntrack flushes a NAT box's flows when a test changes its kind. The relay lab blocks UDP between
  // chosen hosts with nftables too (test/src/lab/udp-blocks.ts).
  nft: "nftables",
  turnserver: "coturn",
  conntrack: "conntrack",
};
// Only the tests need these: Debian's chromium, which playwright drives (it never downloads a browser
// here), and systemd-analyze, which checks the units in deploy/systemd (installing the package starts
// no systemd; the check needs none running).
if (process.argv.includes("--browser")) {
  needed.chromium = "chromium";
  needed["systemd-analyze"] = "systemd";
  // The signaling server's Redis tests start their own redis-server on a private socket (apt does not
  // start it, and they need none running).
  needed["redis-server"] = "redis-server";
}

const has = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
const missing = [
  ...new Set(
    Object.entries(needed)
      .filter(([cmd]) => !has(cmd))
      .map(([, pkg]) => pkg),
  ),
];

if (missing.length === 0) process.exit(0);
if (process.getuid?.() !== 0) {
  console.error(
    `system-deps: missing Debian packages ${missing.join(", ")}; run as root or: apt-get install ${missing.join(" ")}`,
  );
  process.exit(process.env.CI ? 1 : 0);
}
console.log(`system-deps: installing ${missing.join(", ")}`);
const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { stdio: "inherit", env });
