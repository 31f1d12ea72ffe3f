/**
 * Setup file of vitest's `lab` project: every lab test needs root (network namespaces, TUN devices,
 * nftables). The config leaves the lab out for non-root users outside CI; in CI a non-root run gets here
 * and must fail loudly, with the reason, rather than with a confusing `ip netns` error in each test.
 */
import { beforeAll } from "vitest";

beforeAll(() => {
  if (process.getuid?.() !== 0) {
    throw new Error("lab tests (*.lab.test.ts) need root: network namespaces and TUN devices; run as root");
  }
});
