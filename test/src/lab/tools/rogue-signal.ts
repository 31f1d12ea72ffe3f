/**
 * A man in the middle for the security lab test: a WebSocket server that agents take for their
 * signaling server. It relays every message to the real server and back, but rewrites the DTLS
 * fingerprints in the SDP inside link envelopes, as an attacker would to splice itself into links.
 * The signed part of a sealed envelope is base64url JSON; it is decoded, rewritten and re-encoded,
 * keeping the original signature (the attacker has no member key to sign with).
 *
 * Prints `listening on ws://HOST:PORT` when ready and `rewrote N` after each rewrite.
 *
 * usage: rogue-signal --listen HOST:PORT --upstream ws://HOST:PORT
 */
import WebSocket, { WebSocketServer } from "ws";
import { parseArgs } from "./args.js";

const args = parseArgs(process.argv.slice(2), "rogue-signal --listen HOST:PORT --upstream ws://HOST:PORT");
const [host, port] = args.need("listen").split(":") as [string, string];
const upstream = args.need("upstream");
let rewrites = 0;

/** Replaces the first byte of every fingerprint with another value. */
function rewriteSdpText(text: string): string {
  return text.replace(/(a=fingerprint:\S+ )([0-9A-Fa-f]{2})/g, (_m, head: string, byte: string) => {
    rewrites++;
    return `${head}${byte.toUpperCase() === "00" ? "11" : "00"}`;
  });
}

/** Rewrites fingerprints in a sealed envelope's signed part, leaving everything else as it was. */
function tamper(body: unknown): unknown {
  if (typeof body !== "object" || body === null) return body;
  const sealed = body as Record<string, unknown>;
  if (typeof sealed.signed !== "string") return body;
  const text = Buffer.from(sealed.signed, "base64url").toString("latin1");
  const rewritten = rewriteSdpText(text);
  if (rewritten === text) return body;
  return { ...sealed, signed: Buffer.from(rewritten, "latin1").toString("base64url") };
}

function tamperMessage(data: string): string {
  let message: Record<string, unknown>;
  try {
    message = JSON.parse(data) as Record<string, unknown>;
  } catch {
    return data;
  }
  if ((message.t === "send" || message.t === "message") && message.body !== undefined) {
    const before = rewrites;
    message.body = tamper(message.body);
    if (rewrites !== before) console.log(`rewrote ${rewrites}`);
    return JSON.stringify(message);
  }
  return data;
}

const server = new WebSocketServer({ host, port: Number(port) });
server.on("listening", () => console.log(`listening on ws://${host}:${port}`));
server.on("connection", (client) => {
  const up = new WebSocket(upstream);
  const pending: string[] = [];
  up.on("open", () => {
    for (const m of pending.splice(0)) up.send(m);
  });
  client.on("message", (data) => {
    const text = tamperMessage(data.toString());
    if (up.readyState === WebSocket.OPEN) up.send(text);
    else pending.push(text);
  });
  up.on("message", (data) => client.send(tamperMessage(data.toString())));
  client.on("close", () => up.close());
  up.on("close", () => client.close());
  client.on("error", () => up.close());
  up.on("error", () => client.close());
});
