/**
 * Random loss on the underlay, for the lossy TCP test. This kernel has no netem, so nftables drops
 * UDP packets at random as they arrive at each host (`numgen random mod 1000 < N`): every tunnel here
 * runs over UDP, so each of them loses the same share of its underlay packets, in both directions.
 * The raw veth carries TCP itself and is not affected.
 */
import type { Lab } from "../lab/netns.js";

/** The nftables table the rule lives in; deleting it removes the loss. */
const TABLE = "ipop_bench_loss";

/** The nft script that drops `permille` of every 1000 UDP packets arriving at a host. */
export function lossRuleset(permille: number): string {
  if (!Number.isInteger(permille) || permille < 1 || permille > 1000) {
    throw new RangeError(`loss must be 1..1000 per mille, got ${permille}`);
  }
  return [
    `table inet ${TABLE} {`,
    "  chain lossy_input {",
    "    type filter hook input priority -10; policy accept;",
    `    meta l4proto udp numgen random mod 1000 < ${permille} drop`,
    "  }",
    "}",
    "",
  ].join("\n");
}

/** Turns loss on at every host of `lab`; the returned function turns it off again. */
export async function addUnderlayLoss(lab: Lab, permille: number): Promise<() => Promise<void>> {
  const ruleset = lossRuleset(permille);
  const hosts = [...lab.hosts];
  const done: string[] = [];
  const remove = async () => {
    for (const host of done) await lab.exec(host, ["nft", "delete", "table", "inet", TABLE]);
  };
  try {
    for (const host of hosts) {
      await lab.execOk(host, ["nft", "-f", "-"], { input: ruleset });
      done.push(host);
    }
  } catch (error) {
    await remove();
    throw error;
  }
  return remove;
}
