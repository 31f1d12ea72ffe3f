/**
 * "These two hosts cannot link directly", made real on the lab's underlay: nftables in each host's
 * namespace drops UDP to and from the other's underlay address (WebRTC's ICE and data travel over
 * UDP only; signaling is TCP and passes). Dropping every packet, not just new flows, kills a path
 * that is in use at once, as a NAT rebinding or a vanished mapping would. Pairs can be blocked and
 * unblocked mid-test; the rules vanish with the lab's namespaces.
 */
import type { Lab } from "./netns.js";

const TABLE = "ipop_udp_block";
/** The set of underlay addresses this host must not exchange UDP with. */
const SET = "blocked";

export class UdpBlocks {
  readonly #ready = new Set<string>();
  readonly #blocked = new Set<string>();

  constructor(private readonly lab: Lab) {}

  /** From now on `a` and `b` exchange no UDP on the underlay (idempotent). */
  async block(a: string, b: string): Promise<void> {
    await Promise.all([this.#setup(a), this.#setup(b)]);
    await this.#element(a, "add", b);
    await this.#element(b, "add", a);
    this.#blocked.add(key(a, b));
  }

  /** `a` and `b` may exchange UDP again. */
  async unblock(a: string, b: string): Promise<void> {
    if (!this.#blocked.delete(key(a, b))) return;
    await this.#element(a, "delete", b);
    await this.#element(b, "delete", a);
  }

  /** Whether `a` and `b` are blocked now. */
  isBlocked(a: string, b: string): boolean {
    return this.#blocked.has(key(a, b));
  }

  async #element(host: string, verb: "add" | "delete", peer: string): Promise<void> {
    const ip = this.lab.underlayIp(peer);
    await this.lab.execOk(host, ["nft", verb, "element", "inet", TABLE, SET, `{ ${ip} }`]);
  }

  async #setup(host: string): Promise<void> {
    if (this.#ready.has(host)) return;
    this.#ready.add(host);
    const nft = (...args: string[]) => this.lab.execOk(host, ["nft", ...args]);
    await nft("add", "table", "inet", TABLE);
    await nft("add", "set", "inet", TABLE, SET, "{ type ipv4_addr; }");
    await nft("add", "chain", "inet", TABLE, "in", "{ type filter hook input priority -10; }");
    await nft("add", "chain", "inet", TABLE, "out", "{ type filter hook output priority -10; }");
    await nft("add", "rule", "inet", TABLE, "in", "ip", "saddr", `@${SET}`, "meta", "l4proto", "udp", "drop");
    await nft("add", "rule", "inet", TABLE, "out", "ip", "daddr", `@${SET}`, "meta", "l4proto", "udp", "drop");
  }
}

function key(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
