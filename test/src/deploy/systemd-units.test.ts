// The systemd units in deploy/systemd (docs/deploy.md): systemd's own checker accepts them, and the
// hardening they are meant to have is there, so an edit that drops a directive fails here.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { CONTROL_DIR } from "@ipop/agent";
import { afterAll, beforeAll, expect, test } from "vitest";
import { parseShebang } from "../lab/launcher.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const UNITS = join(ROOT, "deploy/systemd");
/** Where docs/deploy.md has the operator put the checkout, and the node the units run it with. */
const INSTALL_DIR = "/opt/ipop";
const NODE = "/usr/bin/node";
const AGENT_UNIT = "ipop@.service";
const SIGNAL_UNIT = "ipop-signal.service";

type Unit = Map<string, Map<string, string[]>>;

/** Sections -> keys -> every value given (a key may repeat). Enough of systemd's syntax for our files. */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = new Map();
      unit.set(header[1]!, section);
      continue;
    }
    const eq = line.indexOf("=");
    if (section === undefined || eq < 0) throw new Error(`not a unit file line: ${line}`);
    const key = line.slice(0, eq).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return unit;
}

const readUnit = async (name: string) => readFile(join(UNITS, name), "utf8");
const service = (unit: Unit) => unit.get("Service") ?? new Map<string, string[]>();

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "ipop-units-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/**
 * `systemd-analyze verify` on a copy of a unit. It needs no running systemd (PID 1 here is not
 * systemd), but it refuses a unit whose ExecStart= program does not exist, and the units name
 * /usr/bin/node, where Debian's and NodeSource's packages put it; a test machine's node may live
 * elsewhere (nvm, a tarball). So the copy names the node running this test; nothing else changes.
 * (The script after it is an argument, which verify does not look at: "ExecStart runs ..." below
 * checks those.) verify exits 0 even for a bad value or a misspelled key ("ignoring"), so any output
 * at all is a failure too: a correct unit produces none.
 */
async function verify(name: string, text: string): Promise<{ ok: boolean; output: string }> {
  const path = join(work, name);
  await writeFile(path, text.replaceAll(`${NODE} `, `${process.execPath} `));
  let code = 0;
  let output: string;
  try {
    const { stdout, stderr } = await run("systemd-analyze", ["verify", "--man=no", path], {
      env: { ...process.env, SYSTEMD_LOG_COLOR: "0", SYSTEMD_COLORS: "0" },
    });
    output = stdout + stderr;
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string };
    if (failed.code === "ENOENT") {
      throw new Error(
        "systemd-analyze is missing: apt-get install systemd (npm test installs it, scripts/system-deps.mjs)",
      );
    }
    code = typeof failed.code === "number" ? failed.code : 1;
    output = `${failed.stdout ?? ""}${failed.stderr ?? ""}`;
  }
  return { ok: code === 0 && output.trim() === "", output: output.trim() };
}

test("systemd-analyze verify accepts both units without a warning", async () => {
  // The template as an instance, so %i is expanded as `systemctl start ipop@lab` would.
  expect(await verify("ipop@lab.service", await readUnit(AGENT_UNIT))).toEqual({ ok: true, output: "" });
  expect(await verify(SIGNAL_UNIT, await readUnit(SIGNAL_UNIT))).toEqual({ ok: true, output: "" });
});

test("the verify check fails on a broken unit", async () => {
  const good = await readUnit(SIGNAL_UNIT);
  const breakages: [string, string][] = [
    ["a bad value", good.replace("ProtectSystem=strict", "ProtectSystem=sideways")],
    ["a misspelled key", good.replace("NoNewPrivileges=yes", "NoNewPrivilegs=yes")],
    ["a missing program", good.replace(`ExecStart=${NODE} `, "ExecStart=/nonexistent/node ")],
    ["a misspelled section", good.replace("[Service]", "[Servce]")],
  ];
  for (const [what, text] of breakages) {
    expect(text, what).not.toBe(good);
    const result = await verify(`broken-${breakages.findIndex(([w]) => w === what)}.service`, text);
    expect(result.ok, `${what}: ${result.output}`).toBe(false);
  }
});

/** What both units must keep; values as written in the files. */
const COMMON: Record<string, string> = {
  Type: "exec",
  NoNewPrivileges: "yes",
  ProtectSystem: "strict",
  ProtectHome: "yes",
  PrivateTmp: "yes",
  PrivateMounts: "yes",
  ConfigurationDirectory: "ipop",
  UMask: "0077",
  Restart: "on-failure",
  RestartPreventExitStatus: "2",
  KillSignal: "SIGTERM",
  ProtectKernelModules: "yes",
  ProtectKernelLogs: "yes",
  ProtectControlGroups: "yes",
  ProtectClock: "yes",
  ProtectHostname: "yes",
  ProtectProc: "invisible",
  RestrictNamespaces: "yes",
  RestrictRealtime: "yes",
  RestrictSUIDSGID: "yes",
  RemoveIPC: "yes",
  LockPersonality: "yes",
  SystemCallArchitectures: "native",
  SystemCallFilter: "@system-service",
};

const AGENT: Record<string, string> = {
  ...COMMON,
  User: "ipop",
  Group: "ipop",
  // TUN needs CAP_NET_ADMIN and nothing else (node-agent/src/tun/net-config.ts runs `ip` with it).
  AmbientCapabilities: "CAP_NET_ADMIN",
  CapabilityBoundingSet: "CAP_NET_ADMIN",
  DevicePolicy: "closed",
  DeviceAllow: "/dev/net/tun rw",
  RestrictAddressFamilies: "AF_UNIX AF_INET AF_INET6 AF_NETLINK",
  RuntimeDirectoryMode: "0700",
  RuntimeDirectoryPreserve: "yes",
  // Long enough for the agent to tell its peers; `ipop down` waits 15 s for the same.
  TimeoutStopSec: "20s",
  KillMode: "mixed",
};

const SIGNAL: Record<string, string> = {
  ...COMMON,
  User: "ipop-signal",
  Group: "ipop-signal",
  AmbientCapabilities: "",
  CapabilityBoundingSet: "",
  PrivateDevices: "yes",
  ProtectKernelTunables: "yes",
  RestrictAddressFamilies: "AF_UNIX AF_INET AF_INET6",
  StateDirectory: "ipop-signal",
  StateDirectoryMode: "0700",
  // The server's own shutdown deadline is 10 s (signaling/src/cli.ts).
  TimeoutStopSec: "15s",
};

test.each([
  [AGENT_UNIT, AGENT],
  [SIGNAL_UNIT, SIGNAL],
])("%s keeps its hardening", async (name, expected) => {
  const settings = service(parseUnit(await readUnit(name)));
  const found = Object.fromEntries(Object.keys(expected).map((key) => [key, settings.get(key)?.join(" | ")]));
  expect(found).toEqual(expected);
});

test("the agent's runtime directory is where the control sockets go", async () => {
  const settings = service(parseUnit(await readUnit(AGENT_UNIT)));
  expect(`/run/${settings.get("RuntimeDirectory")?.join(" ")}`).toBe(CONTROL_DIR);
});

test("ExecStart runs the programs' bin scripts from the install directory, with their config files", async () => {
  const execStart = async (name: string) =>
    service(parseUnit(await readUnit(name)))
      .get("ExecStart")
      ?.join(" | ");
  // The agent gets the environment and node flags of its script's first line, as `ipop` run by hand does.
  const shebang = parseShebang((await readFile(join(ROOT, "node-agent/src/cli.ts"), "utf8")).split("\n")[0]!);
  const agentFlags = shebang.nodeFlags.join(" ");
  const agentEnv = Object.entries(shebang.env).map(([name, value]) => `${name}=${value}`);
  expect(service(parseUnit(await readUnit(AGENT_UNIT))).get("Environment") ?? []).toEqual(agentEnv);
  const bins = async (pkg: string) =>
    (JSON.parse(await readFile(join(ROOT, pkg, "package.json"), "utf8")) as { bin: Record<string, string> }).bin;
  const agentBin = (await bins("node-agent")).ipop!.replace(/^\.\//, "");
  const signalBin = (await bins("signaling"))["ipop-signal"]!.replace(/^\.\//, "");
  expect(await execStart(AGENT_UNIT)).toBe(
    `${NODE} ${agentFlags} ${INSTALL_DIR}/node-agent/${agentBin} up --config /etc/ipop/%i.json`.replace(/ +/g, " "),
  );
  expect(await execStart(SIGNAL_UNIT)).toBe(
    `${NODE} ${INSTALL_DIR}/signaling/${signalBin} --config /etc/ipop/signal.json`,
  );
});

/**
 * systemd's own score of the sandbox (0 safest, 100 none), offline from the file: a guard against
 * losing hardening that the list above does not name. The agent's is higher because it needs the
 * host's network, CAP_NET_ADMIN, /dev/net/tun and a writable /proc/sys. On Debian 12 (systemd 252):
 * agent 21, signaling server 15.
 */
test.each([
  [AGENT_UNIT, 25],
  [SIGNAL_UNIT, 20],
])("systemd-analyze security rates %s at most %i", async (name, threshold) => {
  const path = join(work, name.replace("@.", "@lab."));
  await writeFile(path, (await readUnit(name)).replaceAll(`${NODE} `, `${process.execPath} `));
  const result = await run("systemd-analyze", ["security", "--offline=true", `--threshold=${threshold}`, path]).then(
    () => "ok",
    (error: { stdout?: string }) => (error.stdout ?? "").split("\n").find((line) => line.includes("exposure level")),
  );
  expect(result).toBe("ok");
});
