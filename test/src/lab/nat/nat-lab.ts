/**
 * The NAT lab: an "internet" namespace and home networks behind NAT boxes of the kinds a test picks,
 * built from network namespaces and nftables, torn down with everything in it (also when a test fails:
 * the lab registers with `cleanup.ts`, and a crashed run's namespaces are swept by the next one).
 *
 * ```
 *               [sig] "internet": bridge inet0 198.51.100.1 (signaling, STUN/TURN) and .2 (second STUN address)
 *            ┌────────┴──────────────┬─────────────────────────┐
 *   [nat1] wan0 198.51.100.11   [nat2] wan0 198.51.100.12   [h3] eth0 198.51.100.13   (kind "none": public)
 *     lan0 192.168.1.1/24          lan0 192.168.2.1/24
 *   [h1] 192.168.1.10            [h2] 192.168.2.10, [h4] 192.168.2.11   (two hosts behind one NAT)
 * ```
 * Agent hosts are the underlying {@link Lab}'s h1..hN, numbered site by site, so every lab helper
 * (startAgent, agentStatus, ping, waitForPeersUp) works on `natLab.lab`. No namespace has a default
 * route: home hosts route only the internet prefix through their NAT, so nothing leaves the lab.
 */
import { runChecked } from "../command.js";
import { Lab } from "../netns.js";
import { type Coturn, startCoturn } from "./coturn.js";
import { type NatKind, natRuleset } from "./nat-rules.js";

/** The lab's internet (TEST-NET-2, never routed anywhere). */
export const INTERNET_PREFIX = "198.51.100";
/** Address of the internet namespace: the signaling server and the first STUN/TURN listener. */
export const INTERNET_IP = `${INTERNET_PREFIX}.1`;
/** Second address of the internet namespace: coturn's second listener, for mapping-behaviour tests. */
export const INTERNET_ALT_IP = `${INTERNET_PREFIX}.2`;
const MAX_SITES = 40;
const MAX_HOSTS_PER_SITE = 4;

/** One home network a test asks for. */
export interface SiteSpec {
  /** What stands between its hosts and the internet. */
  readonly kind: NatKind;
  /** Hosts on its LAN (default 1). `none` and `full-cone` sites take exactly one. */
  readonly hosts?: number;
}

/** One home network as built. */
export interface NatSite {
  /** 1-based, in the order asked for. */
  readonly index: number;
  /** Current kind (see {@link NatLab.setKind}). */
  kind: NatKind;
  /** The NAT box's namespace host, undefined for `none`. */
  readonly router: string | undefined;
  /** Agent hosts of the site (lab hosts hN). */
  readonly hosts: readonly string[];
  /** The site's public address: the NAT's WAN address, or the host's own for `none`. */
  readonly publicIp: string;
}

/** Options of {@link NatLab.create}. */
export interface NatLabOptions {
  readonly sites: readonly SiteSpec[];
  /** Copy spawned processes' output to our stderr. Default: env IPOP_LAB_VERBOSE=1. */
  readonly echo?: boolean;
}

/** A running NAT lab. Create with {@link NatLab.create}; always {@link NatLab.destroy} it. */
export class NatLab {
  /** The namespaces; hand it to the agent, ping and status helpers. */
  readonly lab: Lab;
  /** The home networks, in the order asked for. */
  readonly sites: readonly NatSite[];
  #coturn: Coturn | undefined;

  private constructor(lab: Lab, sites: NatSite[]) {
    this.lab = lab;
    this.sites = sites;
  }

  /** The internet namespace's host name (the lab's signaling host). */
  get internet(): string {
    return this.lab.signalHost ?? "sig";
  }

  /**
   * Builds the lab. Needs root, `ip`, `nft`. On failure everything made so far is removed.
   * @throws LabError LAB_NOT_ROOT, LAB_COMMAND_FAILED
   */
  static async create(options: NatLabOptions): Promise<NatLab> {
    const specs = options.sites;
    if (specs.length < 1 || specs.length > MAX_SITES) throw new RangeError(`sites must number 1..${MAX_SITES}`);
    const sites: NatSite[] = [];
    let host = 0;
    for (const [i, spec] of specs.entries()) {
      const count = spec.hosts ?? 1;
      const single = spec.kind === "none" || spec.kind === "full-cone";
      if (!Number.isInteger(count) || count < 1 || count > MAX_HOSTS_PER_SITE || (single && count !== 1)) {
        throw new RangeError(`site ${i + 1} (${spec.kind}): hosts must be 1${single ? "" : `..${MAX_HOSTS_PER_SITE}`}`);
      }
      const index = i + 1;
      sites.push({
        index,
        kind: spec.kind,
        router: spec.kind === "none" ? undefined : `nat${index}`,
        hosts: Array.from({ length: count }, () => `h${++host}`),
        publicIp: `${INTERNET_PREFIX}.${10 + index}`,
      });
    }
    const routers = sites.flatMap((s) => (s.router === undefined ? [] : [s.router]));
    const lab = await Lab.create({
      hosts: host,
      signaling: true,
      underlay: "none",
      routers,
      ...(options.echo === undefined ? {} : { echo: options.echo }),
    });
    const natLab = new NatLab(lab, sites);
    try {
      await natLab.#wire();
    } catch (error) {
      await lab.destroy().catch(() => undefined);
      throw error;
    }
    return natLab;
  }

  /** The site `host` lives in. */
  siteOf(host: string): NatSite {
    const site = this.sites.find((s) => s.hosts.includes(host));
    if (site === undefined) throw new RangeError(`${host} is not an agent host of this NAT lab`);
    return site;
  }

  /**
   * Changes a site's NAT kind in place (not to or from `none`, which is wiring, not rules) and flushes
   * the box's conntrack table, so existing flows lose their mappings as on a rebooted router.
   */
  async setKind(siteIndex: number, kind: Exclude<NatKind, "none">): Promise<void> {
    const site = this.sites[siteIndex - 1];
    if (site?.router === undefined) throw new RangeError(`site ${siteIndex} has no NAT box`);
    if (kind === "full-cone" && site.hosts.length !== 1) throw new RangeError("a full-cone site has one host");
    await this.#loadRules(site, kind);
    await this.lab.execOk(site.router, ["conntrack", "-F"]);
    site.kind = kind;
  }

  /**
   * Starts coturn (STUN and TURN) in the internet namespace on both internet addresses, relaying only
   * to lab addresses. One per lab; stopped by {@link destroy}.
   */
  async startTurn(): Promise<Coturn> {
    if (this.#coturn !== undefined) return this.#coturn;
    this.#coturn = await startCoturn(this.lab, {
      host: this.internet,
      listenIps: [INTERNET_IP, INTERNET_ALT_IP],
      allowedPeers: `${INTERNET_PREFIX}.0-${INTERNET_PREFIX}.255`,
    });
    return this.#coturn;
  }

  /** Stops coturn and every process, deletes every namespace, checks nothing is left. */
  async destroy(): Promise<void> {
    try {
      await this.#coturn?.stop();
    } finally {
      await this.lab.destroy();
    }
  }

  async #wire(): Promise<void> {
    const lab = this.lab;
    const ns = (h: string) => lab.nsName(h);
    const ip = (...args: string[]) => runChecked(["ip", ...args]);
    const inet = this.internet;
    await ip("-n", ns(inet), "link", "add", "inet0", "type", "bridge");
    await ip("-n", ns(inet), "addr", "add", `${INTERNET_IP}/24`, "dev", "inet0");
    await ip("-n", ns(inet), "addr", "add", `${INTERNET_ALT_IP}/24`, "dev", "inet0");
    await ip("-n", ns(inet), "link", "set", "inet0", "up");
    lab.setUnderlayIp(inet, INTERNET_IP);
    for (const site of this.sites) {
      const wanNs = site.router ?? site.hosts[0]!;
      const wanIf = site.router === undefined ? "eth0" : "wan0";
      // Both veth ends are born inside namespaces: the root namespace never sees a lab interface.
      await ip(
        "-n",
        ns(inet),
        "link",
        "add",
        `s${site.index}`,
        "type",
        "veth",
        "peer",
        "name",
        wanIf,
        "netns",
        ns(wanNs),
      );
      await ip("-n", ns(inet), "link", "set", `s${site.index}`, "master", "inet0", "up");
      await ip("-n", ns(wanNs), "addr", "add", `${site.publicIp}/24`, "dev", wanIf);
      await ip("-n", ns(wanNs), "link", "set", wanIf, "up");
      if (site.router === undefined) {
        lab.setUnderlayIp(wanNs, site.publicIp);
        continue;
      }
      const router = site.router;
      await ip("-n", ns(router), "link", "add", "lan0", "type", "bridge");
      await ip("-n", ns(router), "addr", "add", `${this.#lanGateway(site)}/24`, "dev", "lan0");
      await ip("-n", ns(router), "link", "set", "lan0", "up");
      for (const [j, host] of site.hosts.entries()) {
        const hostIp = this.#lanIp(site, j);
        await ip("-n", ns(router), "link", "add", `l${j}`, "type", "veth", "peer", "name", "eth0", "netns", ns(host));
        await ip("-n", ns(router), "link", "set", `l${j}`, "master", "lan0", "up");
        await ip("-n", ns(host), "addr", "add", `${hostIp}/24`, "dev", "eth0");
        await ip("-n", ns(host), "link", "set", "eth0", "up");
        await ip("-n", ns(host), "route", "add", `${INTERNET_PREFIX}.0/24`, "via", this.#lanGateway(site));
        lab.setUnderlayIp(host, hostIp);
      }
      await lab.execOk(router, ["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
      await this.#loadRules(site, site.kind as Exclude<NatKind, "none">);
    }
  }

  async #loadRules(site: NatSite, kind: Exclude<NatKind, "none">): Promise<void> {
    const router = site.router;
    if (router === undefined) return;
    const rules = natRuleset(kind, {
      wan: "wan0",
      lan: "lan0",
      ...(kind === "full-cone" ? { fullConeHost: this.#lanIp(site, 0) } : {}),
    });
    await this.lab.execOk(router, ["nft", "-f", "-"], { input: rules });
  }

  #lanGateway(site: NatSite): string {
    return `192.168.${site.index}.1`;
  }

  #lanIp(site: NatSite, j: number): string {
    return `192.168.${site.index}.${10 + j}`;
  }
}
