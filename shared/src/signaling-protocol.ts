/**
 * The wire protocol between nodes and the signaling server (`ipop-signal`), as JSON text frames over a
 * WebSocket. The server reads only the routing fields (`t`, `to`, membership); `body` of a `send` is an
 * opaque envelope that it forwards untouched: nodes seal link envelopes end to end (identity/sealed-envelope.ts).
 *
 * Both sides parse every incoming message with the validators here: a message that does not validate is
 * answered with an `error` (server) or dropped and counted (node), never trusted.
 *
 * A server started with a CA (`ipop-signal --ca`) also checks who joins (`join.credential`), and may issue
 * certificates for join tokens (`enroll`, `renew`) and keep the network's revocation list
 * (`publish-revocations`, `revocations`); see docs/certificates.md. The validators here check shape only;
 * signatures are checked by identity/.
 */
import { MAX_CERTIFICATE_BYTES } from "./identity/certificate.js";
import { MAX_SIGNAL_ICE_SERVERS, parseIceServers, type SignalIceServer } from "./signal-ice-servers.js";

/** Version carried in every message as `v`. A peer speaking another version is refused at join. */
export const SIGNAL_PROTOCOL_VERSION = 1;

/** Largest message either side accepts, in bytes of UTF-8 JSON. SDP offers are about 1-3 KiB. */
export const MAX_SIGNAL_MESSAGE_BYTES = 64 * 1024;

/** What a node tells the network about itself at join. */
export interface MemberInfo {
  /**
   * Stable for one agent process: the node's certificate key id (the fingerprint of its certified key,
   * 32 hex digits), a dash and 8 hex digits chosen per run (see `nodeIdBelongsTo`).
   */
  readonly nodeId: string;
  /** Human name, shown in status output. */
  readonly name: string;
  /** The node's virtual IPv4 address, dotted quad, without prefix length. */
  readonly ip: string;
}

/**
 * A node's proof at join that it holds a certified key (made by `signJoinProof`, checked by
 * `verifyJoinProof` in identity/join-proof.ts): its certificate, and its signature over the network, its
 * node id, its address and the time.
 */
export interface JoinCredential {
  /** The node's certificate, armored. */
  readonly cert: string;
  /** Wall-clock milliseconds since the Unix epoch when it was signed. */
  readonly time: number;
  /** Ed25519 signature by the certificate's key (context "ipop-join-v1"), base64url. */
  readonly sig: string;
}

export type ClientMessage =
  | {
      readonly v: 1;
      readonly t: "join";
      readonly network: string;
      readonly member: MemberInfo;
      /** Required by a server with a CA; ignored by one without. Sign a fresh one for every join. */
      readonly credential?: JoinCredential;
    }
  | { readonly v: 1; readonly t: "send"; readonly to: string; readonly ref?: number; readonly body: unknown }
  | { readonly v: 1; readonly t: "leave" }
  | {
      /** Asks for a certificate for a join token; answered with `enrolled` or an `error`. Needs no join. */
      readonly v: 1;
      readonly t: "enroll";
      readonly network: string;
      /** The token's text, `ipop-token-v1.<body>.<signature>`. */
      readonly token: string;
      /** The new node's Ed25519 public key, base64url (32 bytes). */
      readonly publicKey: string;
      /** The member name the node wants; it becomes the certificate's name. */
      readonly name: string;
      /** Signature by the new key (context "ipop-enroll-v1") over network, token, key and name, base64url. */
      readonly proof: string;
    }
  | {
      /** Asks for a fresh certificate for the same key, name and address; answered like `enroll`. */
      readonly v: 1;
      readonly t: "renew";
      readonly network: string;
      /** The certificate to renew, armored. */
      readonly cert: string;
      /** Wall-clock milliseconds when signed. */
      readonly time: number;
      /** Signature by the certificate's key (context "ipop-renew-v1") over network, cert and time, base64url. */
      readonly sig: string;
    }
  | {
      /** Hands the server a CA-signed revocation list; answered with `published` or an `error`. Needs no join. */
      readonly v: 1;
      readonly t: "publish-revocations";
      readonly network: string;
      /** The armored list. */
      readonly list: string;
    };

export interface ServerLimits {
  readonly maxMessageBytes: number;
  readonly messagesPerSecond: number;
  readonly maxMembers: number;
}

export type ServerMessage =
  | {
      readonly v: 1;
      readonly t: "welcome";
      readonly network: string;
      /** Current members other than the joining node. */
      readonly members: readonly MemberInfo[];
      readonly limits: ServerLimits;
    }
  | { readonly v: 1; readonly t: "member-joined"; readonly member: MemberInfo }
  | { readonly v: 1; readonly t: "member-left"; readonly nodeId: string }
  | { readonly v: 1; readonly t: "message"; readonly from: string; readonly body: unknown }
  | {
      readonly v: 1;
      readonly t: "error";
      readonly code: SignalErrorCode;
      readonly message: string;
      /** The `ref` of the `send` this answers, when there was one. */
      readonly ref?: number;
      /** For refused credentials, tokens and lists: the identity verdict's code, e.g. "IPOP_CERT_EXPIRED". */
      readonly reason?: string;
    }
  | {
      /** The answer to `enroll` and `renew`. */
      readonly v: 1;
      readonly t: "enrolled";
      /** The new certificate, armored. */
      readonly cert: string;
      /** The network's CA certificate, armored; check it is the one the token names before trusting it. */
      readonly ca: string;
    }
  | {
      /** The network's current revocation list: after `welcome`, and to every member when a newer one arrives. */
      readonly v: 1;
      readonly t: "revocations";
      readonly network: string;
      /** The armored list. */
      readonly list: string;
    }
  | {
      /**
       * STUN/TURN servers for the member's links: right after `welcome`, and again before the TURN
       * credentials expire. Each message replaces the servers of the one before.
       */
      readonly v: 1;
      readonly t: "ice-servers";
      readonly servers: readonly SignalIceServer[];
      /** When the TURN credentials stop working (Unix seconds); 0 when none are listed. */
      readonly expires: number;
    }
  | {
      /** The answer to `publish-revocations`. */
      readonly v: 1;
      readonly t: "published";
      readonly network: string;
      readonly serial: number;
      /** Members the list was sent to. */
      readonly notified: number;
      /** Members disconnected because the list revokes them. */
      readonly disconnected: number;
    };

/** Stable error codes of the signaling protocol. */
export type SignalErrorCode =
  | "bad-json"
  | "bad-message"
  | "bad-version"
  | "too-large"
  | "rate-limited"
  | "not-joined"
  | "already-joined"
  | "network-full"
  | "duplicate-node"
  /** Another member of the network already uses the virtual IP the joining node claims. */
  | "address-in-use"
  | "unknown-peer"
  /** The join carried no credential, or one that does not verify (`reason` says which check failed). */
  | "unauthorized"
  /** The certificate (or the key or name asking to enroll) is revoked. */
  | "revoked"
  /** The join token does not verify (`reason` says why). */
  | "token-invalid"
  /** The token's pool has no free address. */
  | "pool-exhausted"
  /** The member name asked for is held by another key. */
  | "name-in-use"
  /** This server has no CA (for `publish-revocations`), or no CA key (for `enroll` and `renew`). */
  | "no-ca"
  /** The revocation list does not verify, or is not newer than the one held (`reason` says which). */
  | "revocations-refused";

/** WebSocket close codes the server uses (4000-4999 is the application range). */
export const SignalCloseCode = {
  /** The client sent too many invalid messages. */
  protocolError: 4000,
  /** The client kept sending faster than the rate limit allows. */
  rateLimited: 4001,
  /** The network has reached its member limit. */
  networkFull: 4002,
  /** Another connection joined with the same node id. */
  replaced: 4003,
  /** The client did not join in time. */
  joinTimeout: 4004,
  /** Another member already uses the claimed virtual IP. */
  addressInUse: 4005,
  /** The member's certificate was revoked, or a revoked certificate tried to join. */
  revoked: 4006,
  /** The join's credential was missing or did not verify. */
  unauthorized: 4007,
  /** The server is shutting down. */
  serverShutdown: 1001,
  /** "Try again later": the membership store (Redis) did not answer in time; another instance may. */
  tryAgainLater: 1013,
} as const;

export type ParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly code: SignalErrorCode; readonly message: string };

const NODE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MEMBER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const DOTTED_QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
/** Longest base64url signature or key text accepted (a 64-byte signature is 86 characters). */
const MAX_BASE64URL_FIELD = 128;
/** Longest token text accepted by the parser; identity/token.ts has the exact limit (it is lower). */
const MAX_TOKEN_FIELD = 8 * 1024;

export function isNodeId(value: unknown): value is string {
  return typeof value === "string" && NODE_ID.test(value);
}

export function isNetworkName(value: unknown): value is string {
  return typeof value === "string" && NETWORK_NAME.test(value);
}

export function isMemberName(value: unknown): value is string {
  return typeof value === "string" && MEMBER_NAME.test(value);
}

export function isDottedQuad(value: unknown): value is string {
  return typeof value === "string" && DOTTED_QUAD.test(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fail<T>(code: SignalErrorCode, message: string): ParseResult<T> {
  return { ok: false, code, message };
}

/** Validates a member record; returns a copy holding only the known fields. */
export function parseMemberInfo(value: unknown): MemberInfo | string {
  if (!isRecord(value)) return "member must be an object";
  if (!isNodeId(value.nodeId)) return "member.nodeId must be 1-64 characters of [A-Za-z0-9_-]";
  if (!isMemberName(value.name)) return "member.name must be 1-63 characters of [A-Za-z0-9._-], starting alphanumeric";
  if (!isDottedQuad(value.ip)) return "member.ip must be a dotted-quad IPv4 address";
  return { nodeId: value.nodeId, name: value.name, ip: value.ip };
}

function isBase64UrlField(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_BASE64URL_FIELD && BASE64URL.test(value);
}

function isArmoredField(value: unknown, limit: number): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= limit;
}

/** Validates a join credential's shape (not its signature); returns a copy holding only the known fields. */
export function parseJoinCredential(value: unknown): JoinCredential | string {
  if (!isRecord(value)) return "credential must be an object {cert, time, sig}";
  if (!isArmoredField(value.cert, MAX_CERTIFICATE_BYTES)) {
    return `credential.cert must be an armored certificate of at most ${MAX_CERTIFICATE_BYTES} bytes`;
  }
  if (!Number.isSafeInteger(value.time) || (value.time as number) < 0) {
    return "credential.time must be wall-clock milliseconds";
  }
  if (!isBase64UrlField(value.sig)) return "credential.sig must be a base64url signature";
  return { cert: value.cert, time: value.time as number, sig: value.sig };
}

function parseEnvelope(text: string): ParseResult<Record<string, unknown>> {
  if (utf8Length(text) > MAX_SIGNAL_MESSAGE_BYTES) {
    return fail("too-large", `message exceeds ${MAX_SIGNAL_MESSAGE_BYTES} bytes`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return fail("bad-json", "message is not valid JSON");
  }
  if (!isRecord(data)) return fail("bad-message", "message must be a JSON object");
  if (data.v !== SIGNAL_PROTOCOL_VERSION) {
    return fail("bad-version", `protocol version must be ${SIGNAL_PROTOCOL_VERSION}`);
  }
  if (typeof data.t !== "string") return fail("bad-message", "message type `t` must be a string");
  return { ok: true, value: data };
}

/** Parses a message a client sent to the server. */
export function parseClientMessage(text: string): ParseResult<ClientMessage> {
  const envelope = parseEnvelope(text);
  if (!envelope.ok) return envelope;
  const m = envelope.value;
  switch (m.t) {
    case "join": {
      if (!isNetworkName(m.network)) {
        return fail("bad-message", "join.network must be 1-64 characters of [A-Za-z0-9._-], starting alphanumeric");
      }
      const member = parseMemberInfo(m.member);
      if (typeof member === "string") return fail("bad-message", `join: ${member}`);
      if (m.credential === undefined) return { ok: true, value: { v: 1, t: "join", network: m.network, member } };
      const credential = parseJoinCredential(m.credential);
      if (typeof credential === "string") return fail("bad-message", `join: ${credential}`);
      return { ok: true, value: { v: 1, t: "join", network: m.network, member, credential } };
    }
    case "enroll": {
      if (!isNetworkName(m.network)) return fail("bad-message", "enroll.network must be a network name");
      if (!isArmoredField(m.token, MAX_TOKEN_FIELD)) return fail("bad-message", "enroll.token must be a token's text");
      if (!isBase64UrlField(m.publicKey)) return fail("bad-message", "enroll.publicKey must be base64url");
      if (!isMemberName(m.name)) {
        return fail("bad-message", "enroll.name must be 1-63 characters of [A-Za-z0-9._-], starting alphanumeric");
      }
      if (!isBase64UrlField(m.proof)) return fail("bad-message", "enroll.proof must be a base64url signature");
      const { network, token, publicKey, name, proof } = m;
      return { ok: true, value: { v: 1, t: "enroll", network, token, publicKey, name, proof } };
    }
    case "renew": {
      if (!isNetworkName(m.network)) return fail("bad-message", "renew.network must be a network name");
      const credential = parseJoinCredential(m);
      if (typeof credential === "string")
        return fail("bad-message", `renew: ${credential.replace(/credential\./g, "")}`);
      return { ok: true, value: { v: 1, t: "renew", network: m.network, ...credential } };
    }
    case "publish-revocations": {
      if (!isNetworkName(m.network)) return fail("bad-message", "publish-revocations.network must be a network name");
      if (!isArmoredField(m.list, MAX_SIGNAL_MESSAGE_BYTES)) {
        return fail("bad-message", "publish-revocations.list must be an armored revocation list");
      }
      return { ok: true, value: { v: 1, t: "publish-revocations", network: m.network, list: m.list } };
    }
    case "send": {
      if (!isNodeId(m.to)) return fail("bad-message", "send.to must be a node id");
      if (m.ref !== undefined && !(Number.isSafeInteger(m.ref) && (m.ref as number) >= 0)) {
        return fail("bad-message", "send.ref must be a non-negative integer");
      }
      if (m.body === undefined) return fail("bad-message", "send.body is missing");
      const ref = m.ref as number | undefined;
      return {
        ok: true,
        value:
          ref === undefined
            ? { v: 1, t: "send", to: m.to, body: m.body }
            : { v: 1, t: "send", to: m.to, ref, body: m.body },
      };
    }
    case "leave":
      return { ok: true, value: { v: 1, t: "leave" } };
    default:
      return fail("bad-message", `unknown message type ${JSON.stringify(String(m.t).slice(0, 32))}`);
  }
}

/** Parses a message the server sent to a client. */
export function parseServerMessage(text: string): ParseResult<ServerMessage> {
  const envelope = parseEnvelope(text);
  if (!envelope.ok) return envelope;
  const m = envelope.value;
  switch (m.t) {
    case "welcome": {
      if (!isNetworkName(m.network) || !Array.isArray(m.members) || !isRecord(m.limits)) {
        return fail("bad-message", "welcome needs network, members and limits");
      }
      const members: MemberInfo[] = [];
      for (const raw of m.members) {
        const member = parseMemberInfo(raw);
        if (typeof member === "string") return fail("bad-message", `welcome: ${member}`);
        members.push(member);
      }
      const { maxMessageBytes, messagesPerSecond, maxMembers } = m.limits;
      if (
        typeof maxMessageBytes !== "number" ||
        typeof messagesPerSecond !== "number" ||
        typeof maxMembers !== "number"
      ) {
        return fail("bad-message", "welcome.limits must hold numbers");
      }
      return {
        ok: true,
        value: {
          v: 1,
          t: "welcome",
          network: m.network,
          members,
          limits: { maxMessageBytes, messagesPerSecond, maxMembers },
        },
      };
    }
    case "member-joined": {
      const member = parseMemberInfo(m.member);
      if (typeof member === "string") return fail("bad-message", `member-joined: ${member}`);
      return { ok: true, value: { v: 1, t: "member-joined", member } };
    }
    case "member-left":
      if (!isNodeId(m.nodeId)) return fail("bad-message", "member-left.nodeId must be a node id");
      return { ok: true, value: { v: 1, t: "member-left", nodeId: m.nodeId } };
    case "message":
      if (!isNodeId(m.from) || m.body === undefined) return fail("bad-message", "message needs from and body");
      return { ok: true, value: { v: 1, t: "message", from: m.from, body: m.body } };
    case "error": {
      if (typeof m.code !== "string" || typeof m.message !== "string")
        return fail("bad-message", "error needs code and message");
      const ref = Number.isSafeInteger(m.ref) ? (m.ref as number) : undefined;
      const reason = typeof m.reason === "string" ? m.reason.slice(0, 64) : undefined;
      const base = {
        v: 1 as const,
        t: "error" as const,
        code: m.code as SignalErrorCode,
        message: m.message.slice(0, 512),
      };
      return {
        ok: true,
        value: { ...base, ...(ref === undefined ? {} : { ref }), ...(reason === undefined ? {} : { reason }) },
      };
    }
    case "enrolled":
      if (!isArmoredField(m.cert, MAX_CERTIFICATE_BYTES) || !isArmoredField(m.ca, MAX_CERTIFICATE_BYTES)) {
        return fail("bad-message", "enrolled needs cert and ca, armored certificates");
      }
      return { ok: true, value: { v: 1, t: "enrolled", cert: m.cert, ca: m.ca } };
    case "ice-servers": {
      const servers = parseIceServers(m.servers);
      if (servers === undefined || !Number.isSafeInteger(m.expires) || (m.expires as number) < 0) {
        return fail("bad-message", `ice-servers needs up to ${MAX_SIGNAL_ICE_SERVERS} servers and expires`);
      }
      return { ok: true, value: { v: 1, t: "ice-servers", servers, expires: m.expires as number } };
    }
    case "revocations":
      if (!isNetworkName(m.network) || !isArmoredField(m.list, MAX_SIGNAL_MESSAGE_BYTES)) {
        return fail("bad-message", "revocations needs network and list");
      }
      return { ok: true, value: { v: 1, t: "revocations", network: m.network, list: m.list } };
    case "published": {
      const { serial, notified, disconnected } = m;
      if (
        !isNetworkName(m.network) ||
        !Number.isSafeInteger(serial) ||
        !Number.isSafeInteger(notified) ||
        !Number.isSafeInteger(disconnected)
      ) {
        return fail("bad-message", "published needs network, serial, notified and disconnected");
      }
      return {
        ok: true,
        value: {
          v: 1,
          t: "published",
          network: m.network,
          serial: serial as number,
          notified: notified as number,
          disconnected: disconnected as number,
        },
      };
    }
    default:
      return fail("bad-message", `unknown message type ${JSON.stringify(String(m.t).slice(0, 32))}`);
  }
}

/** UTF-8 byte length of a string without allocating (no TextEncoder in the pure core). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
