/** Test helpers for other packages' tests and the simulator: `@ipop/shared/testing`. */
export { MiniNet, member } from "./mini-net.js";
export { makeIpv4Packet, withHeadroom } from "./packets.js";
export { seededRandom } from "./random.js";
