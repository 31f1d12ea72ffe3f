/**
 * The network-namespace lab: one namespace per host, all joined by veth pairs to a Linux bridge that
 * lives in a namespace of its own. Nothing is created in the root namespace and no namespace gets a
 * default route, so lab traffic cannot leave the lab.
 *
 * ```
 *   [h1] eth0 ──veth── ┐
 *   [h2] eth0 ──veth── ├─ br0 [br]      underlay 172.31.250.0/24: hN = .N, sig = .253
 *   [sig] eth0 ─veth── ┘
 * ```
 */

import { LabError } from "../errors.js";
import { registerLive, type SyncDestroyable, unregisterLive } from "./cleanup.js";
import { type CommandResult, commandFailed, killGroup, type RunOptions, runChecked, runCommand } from "./command.js";
import { DEFAULT_PREFIX, type LabNames, labNames } from "./names.js";
import { LabProcess } from "./process.js";
import { deleteNamespaceSync, findLeftovers, type Leftovers, sweepStaleLabs } from "./sweep.js";

/** The underlay subnet every lab uses (private, and not routed anywhere from the lab). */
export const UNDERLAY_PREFIX = "172.31.250";
/** Prefix length of the underlay. */
export const UNDERLAY_PREFIX_LEN = 24;
/** Host name of the signaling server's namespace. */
export const SIGNAL_HOST = "sig";
/** Host name of the bridge namespace. */
export const BRIDGE_HOST = "br";
const SIGNAL_OCTET = 253;
const MAX_HOSTS = 200;

/** Options of {@link Lab.create}. */
export interface LabOptions {
  /** Number of hosts, named h1..hN. */
  hosts: number;
  /** Namespace name prefix, default `ipoplab`. */
  prefix?: string;
  /** Add the `sig` namespace for a signaling server. Default true. */
  signaling?: boolean;
  /** Remove leftovers of crashed earlier runs first. Default true. */
  sweep?: boolean;
  /** Copy spawned processes' output to our stderr. Default: env IPOP_LAB_VERBOSE=1. */
  echo?: boolean;
  /**
   * How the namespaces are joined. `bridge` (default): the flat underlay drawn above. `none`: the
   * namespaces get only `lo`, and the caller wires them itself (the NAT lab, test/src/lab/nat), telling
   * the lab each host's address with {@link Lab.setUnderlayIp}.
   */
  underlay?: "bridge" | "none";
  /** More namespaces, not agent hosts (NAT boxes, routers); created empty, removed with the lab. */
  routers?: readonly string[];
}

/** Options of {@link Lab.spawn}. */
export interface SpawnOptions {
  /** Extra environment variables for the process. */
  env?: NodeJS.ProcessEnv;
  /** Name in error messages and echoed output; default "<host> <argv[0]>". */
  label?: string;
}

let serial = 0;

/** A running lab. Create with {@link Lab.create}; always {@link Lab.destroy} it (use try/finally or `after`). */
export class Lab implements SyncDestroyable {
  /** The hosts, h1..hN. */
  readonly hosts: readonly string[];
  /** The signaling host's name, when the lab has one. */
  readonly signalHost: string | undefined;
  /** The extra namespaces of {@link LabOptions.routers}. */
  readonly routers: readonly string[];
  readonly #names: LabNames;
  readonly #bridged: boolean;
  readonly #underlayIps = new Map<string, string>();
  readonly #echo: boolean;
  readonly #procs = new Set<LabProcess>();
  readonly #execPids = new Set<number>();
  #state: "live" | "destroying" | "destroyed" = "live";
  #destroying: Promise<void> | undefined;

  private constructor(
    names: LabNames,
    hosts: number,
    signaling: boolean,
    echo: boolean,
    bridged: boolean,
    routers: readonly string[],
  ) {
    this.#names = names;
    this.#echo = echo;
    this.#bridged = bridged;
    this.routers = [...routers];
    this.hosts = Array.from({ length: hosts }, (_, i) => `h${i + 1}`);
    this.signalHost = signaling ? SIGNAL_HOST : undefined;
  }

  /**
   * Builds a lab. Needs root. On failure everything created so far is removed again.
   * @throws LabError LAB_NOT_ROOT, LAB_COMMAND_FAILED
   */
  static async create(options: LabOptions): Promise<Lab> {
    if (process.getuid?.() !== 0) {
      throw new LabError("LAB_NOT_ROOT", "the namespace lab needs root (network namespaces, TUN devices)");
    }
    if (!Number.isInteger(options.hosts) || options.hosts < 1 || options.hosts > MAX_HOSTS) {
      throw new RangeError(`hosts must be an integer in 1..${MAX_HOSTS}`);
    }
    const prefix = options.prefix ?? DEFAULT_PREFIX;
    if (options.sweep ?? true) sweepStaleLabs(prefix);
    serial += 1;
    const echo = options.echo ?? process.env.IPOP_LAB_VERBOSE === "1";
    const routers = options.routers ?? [];
    for (const r of routers) {
      if (!/^[A-Za-z0-9_.]{1,12}$/.test(r) || /^h\d+$/.test(r) || r === SIGNAL_HOST || r === BRIDGE_HOST) {
        throw new RangeError(`router namespace name ${r} must be 1-12 of [A-Za-z0-9_.] and not hN, sig or br`);
      }
    }
    const lab = new Lab(
      labNames(prefix, process.pid, serial),
      options.hosts,
      options.signaling ?? true,
      echo,
      (options.underlay ?? "bridge") === "bridge",
      routers,
    );
    registerLive(lab);
    try {
      await lab.#build();
    } catch (e) {
      lab.destroySync();
      throw e;
    }
    return lab;
  }

  /** Every namespace host of the lab: the hosts, `sig` if present, the routers, and `br` when bridged. */
  get allHosts(): readonly string[] {
    return [
      ...this.hosts,
      ...(this.signalHost ? [this.signalHost] : []),
      ...this.routers,
      ...(this.#bridged ? [BRIDGE_HOST] : []),
    ];
  }

  /** Namespace name prefix of this lab run, e.g. `ipoplab-4711-1-`. */
  get nsPrefix(): string {
    return this.#names.nsPrefix;
  }

  /** Whether {@link destroy} has started or finished. */
  get destroyed(): boolean {
    return this.#state !== "live";
  }

  /** Namespace name of `host`. */
  nsName(host: string): string {
    this.#checkHost(host);
    return this.#names.ns(host);
  }

  /** Underlay IPv4 address of `host` (the bridge namespace has none). */
  underlayIp(host: string): string {
    const set = this.#underlayIps.get(host);
    if (set !== undefined) return set;
    if (!this.#bridged) throw new LabError("LAB_UNKNOWN_HOST", `lab host ${host} was given no underlay address`);
    if (host === this.signalHost) return `${UNDERLAY_PREFIX}.${SIGNAL_OCTET}`;
    const i = this.hosts.indexOf(host);
    if (i < 0) throw new LabError("LAB_UNKNOWN_HOST", `lab host ${host} has no underlay address`);
    return `${UNDERLAY_PREFIX}.${i + 1}`;
  }

  /**
   * Records the address other hosts reach `host` at, for a lab built with `underlay: "none"` (whoever
   * wired the namespaces knows it; {@link underlayIp} reports it from then on).
   */
  setUnderlayIp(host: string, ip: string): void {
    this.#checkHost(host);
    this.#underlayIps.set(host, ip);
  }

  /**
   * Runs `argv` inside `host`'s namespace and returns its exit status and output. A non-zero exit
   * is a result, not an error. The command is killed after `timeoutMs` (default 60 s) or on destroy.
   */
  async exec(host: string, argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    this.#checkLive();
    const ns = this.nsName(host);
    let pid: number | undefined;
    try {
      return await runCommand(["ip", "netns", "exec", ns, ...argv], {
        ...options,
        onSpawn: (p) => {
          pid = p;
          this.#execPids.add(p);
        },
      });
    } finally {
      if (pid !== undefined) this.#execPids.delete(pid);
    }
  }

  /** Like {@link exec} but rejects with LAB_COMMAND_FAILED unless the command exits 0. */
  async execOk(host: string, argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    const r = await this.exec(host, argv, options);
    if (r.code !== 0) throw commandFailed([`[${host}]`, ...argv], r);
    return r;
  }

  /**
   * Starts a long-running `argv` inside `host`'s namespace, in its own process group.
   * The lab tracks it: {@link destroy} stops it (SIGTERM, then SIGKILL) if it still runs.
   */
  spawn(host: string, argv: readonly string[], options: SpawnOptions = {}): LabProcess {
    this.#checkLive();
    const ns = this.nsName(host);
    const label = options.label ?? `${host} ${argv[0] ?? ""}`;
    const proc = LabProcess.spawn(label, ["ip", "netns", "exec", ns, ...argv], {
      ...(options.env ? { env: options.env } : {}),
      ...(this.#echo ? { echoPrefix: `[${label}] ` } : {}),
    });
    this.#procs.add(proc);
    void proc.exited.then(() => this.#procs.delete(proc));
    return proc;
  }

  /** What of this lab is still present on the machine (empty lists when clean). */
  leftovers(): Leftovers {
    return findLeftovers(this.#names.nsPrefix, this.#names.vethPrefix);
  }

  /**
   * Stops tracked processes (SIGTERM, up to `graceMs`, then SIGKILL to their process groups), deletes
   * every namespace, and checks that nothing is left. Idempotent; concurrent calls share one teardown.
   * @throws LabError LAB_LEAK when a namespace or interface of this lab survived
   */
  destroy(graceMs = 5_000): Promise<void> {
    this.#destroying ??= this.#teardown(graceMs);
    return this.#destroying;
  }

  /**
   * Immediate teardown for exit and signal handlers: SIGKILL everything, delete namespaces.
   * Does not throw and does not verify.
   */
  destroySync(): void {
    if (this.#state === "destroyed") return;
    this.#state = "destroyed";
    for (const p of this.#procs) p.kill("SIGKILL");
    for (const pid of this.#execPids) killGroup(pid, "SIGKILL");
    for (const host of this.allHosts) deleteNamespaceSync(this.#names.ns(host));
    unregisterLive(this);
  }

  async #teardown(graceMs: number): Promise<void> {
    if (this.#state === "live") this.#state = "destroying";
    await Promise.all([...this.#procs].map((p) => p.stop("SIGTERM", graceMs)));
    this.destroySync();
    const left = this.leftovers();
    if (left.namespaces.length > 0 || left.interfaces.length > 0) {
      throw new LabError(
        "LAB_LEAK",
        `lab teardown left namespaces [${left.namespaces.join(", ")}] interfaces [${left.interfaces.join(", ")}]`,
      );
    }
  }

  async #build(): Promise<void> {
    const ip = (...args: string[]) => runChecked(["ip", ...args]);
    if (!this.#bridged) {
      for (const host of this.allHosts) {
        await ip("netns", "add", this.#names.ns(host));
        await ip("-n", this.#names.ns(host), "link", "set", "lo", "up");
      }
      return;
    }
    const br = this.#names.ns(BRIDGE_HOST);
    await ip("netns", "add", br);
    await ip("-n", br, "link", "set", "lo", "up");
    await ip("-n", br, "link", "add", "br0", "type", "bridge");
    await ip("-n", br, "link", "set", "br0", "up");
    const attached = [...this.hosts, ...(this.signalHost ? [this.signalHost] : [])];
    for (const [i, host] of attached.entries()) {
      const ns = this.#names.ns(host);
      const veth = this.#names.veth(i + 1);
      await ip("netns", "add", ns);
      await ip("-n", ns, "link", "set", "lo", "up");
      // Both ends are born inside namespaces: the root namespace never sees a lab interface.
      await ip("-n", br, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns);
      await ip("-n", br, "link", "set", veth, "master", "br0", "up");
      await ip("-n", ns, "addr", "add", `${this.underlayIp(host)}/${UNDERLAY_PREFIX_LEN}`, "dev", "eth0");
      await ip("-n", ns, "link", "set", "eth0", "up");
    }
  }

  #checkHost(host: string): void {
    if (!this.allHosts.includes(host)) {
      throw new LabError("LAB_UNKNOWN_HOST", `no lab host ${host}; hosts are ${this.allHosts.join(", ")}`);
    }
  }

  #checkLive(): void {
    if (this.#state !== "live") throw new LabError("LAB_DESTROYED", "this lab was destroyed");
  }
}
