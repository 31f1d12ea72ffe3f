/**
 * The bench's own Debian packages (iperf3, wireguard-go, wireguard-tools, nebula). They are not in
 * scripts/system-deps.mjs because no test needs them: only the bench, which installs them when missing.
 */
import { spawnSync } from "node:child_process";
import { BenchError } from "../errors.js";

/** What every run needs, whatever the systems: command -> Debian package. */
export const BASE_NEEDS: Readonly<Record<string, string>> = {
  iperf3: "iperf3",
  ping: "iputils-ping",
  ip: "iproute2",
};

function onPath(cmd: string): boolean {
  return spawnSync("sh", ["-c", 'command -v "$1"', "sh", cmd], { stdio: "ignore" }).status === 0;
}

/** The packages providing the commands of `needs` that are not on PATH, without repeats. */
export function missingPackages(needs: Readonly<Record<string, string>>, has = onPath): string[] {
  return [
    ...new Set(
      Object.entries(needs)
        .filter(([cmd]) => !has(cmd))
        .map(([, pkg]) => pkg),
    ),
  ];
}

/**
 * Installs the packages for any command of `needs` that is missing: `apt-get update`, a look at
 * `apt-cache policy` (logged, so a run says which versions it got), then `apt-get install`.
 * @throws BenchError BENCH_DEPS_MISSING when something is still missing afterwards
 */
export function ensureCommands(needs: Readonly<Record<string, string>>, log: (line: string) => void): void {
  const missing = missingPackages(needs);
  if (missing.length === 0) return;
  log(`installing Debian packages: ${missing.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const run = (argv: string[]) => {
    const r = spawnSync(argv[0]!, argv.slice(1), { env, encoding: "utf8", timeout: 600_000 });
    return { ok: r.status === 0, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
  };
  run(["apt-get", "update", "-qq"]);
  const policy = run(["apt-cache", "policy", ...missing]);
  for (const line of policy.out.split("\n").filter((l) => /^\S|Candidate/.test(l))) log(`  ${line.trim()}`);
  const install = run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...missing]);
  const still = missingPackages(needs);
  if (still.length > 0) {
    throw new BenchError(
      "BENCH_DEPS_MISSING",
      `could not install ${still.join(", ")} (apt-get install ${install.ok ? "succeeded" : "failed"}): ` +
        `${install.out.trim().split("\n").slice(-3).join(" | ")}; install them by hand or drop those systems with --systems`,
    );
  }
}

/** Installed version of a Debian package, or undefined. */
export function packageVersion(pkg: string): string | undefined {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax, not JavaScript's
  const r = spawnSync("dpkg-query", ["-W", "-f", "${Version}", pkg], { encoding: "utf8" });
  return r.status === 0 && r.stdout ? r.stdout.trim() : undefined;
}
