export * from "./signaling-protocol.js";
