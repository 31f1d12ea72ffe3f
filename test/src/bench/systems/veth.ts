/**
 * The raw underlay: the lab's veth pairs and bridge, no tunnel. The ceiling every overlay is measured
 * against; the kernel alone moves the packets, so there is no daemon to charge CPU or memory to.
 */
import type { BenchSystem } from "./system.js";

/** The raw veth + bridge path between h1 and h2. */
export const vethSystem: BenchSystem = {
  name: "veth",
  description: "raw veth + Linux bridge, no tunnel (the ceiling)",
  needs: {},
  async setup(lab) {
    return {
      addressOf: (host) => lab.underlayIp(host),
      pids: () => [],
      setupTimings: {},
      teardown: async () => {},
    };
  },
};
