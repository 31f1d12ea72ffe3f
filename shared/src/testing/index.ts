/** Test helpers for other packages' tests and the simulator: `@ipop/shared/testing`. */

export { makeTestCa, makeTestNode, type TestCa, type TestNodeCredentials } from "./identity.js";
export { MiniNet, member } from "./mini-net.js";
export { makeIpv4Packet, withHeadroom } from "./packets.js";
export { type PrometheusSample, parsePrometheusText, sampleValue } from "./prometheus-text.js";
export { seededRandom } from "./random.js";
export { UnsignedTrust } from "./unsigned-trust.js";
