import {
  type Certificate,
  certificateSecondsOf,
  checkCa,
  DEFAULT_JOIN_MAX_SKEW_MS,
  type EnrollRequest,
  errorMessage,
  formatCertificate,
  formatIpv4Address,
  type IdentityFailure,
  type JoinCredential,
  keyMatches,
  MAX_LEASE_SECONDS,
  type MemberInfo,
  MIN_LEASE_SECONDS,
  nodeIdOf,
  parseRevocationList,
  parseToken,
  prefixContainsAddress,
  type RenewRequest,
  type RevocationList,
  revokedSet,
  SignalCloseCode,
  type SignalErrorCode,
  signCertificate,
  verifyEnrollRequest,
  verifyJoinProof,
  verifyRenewRequest,
  verifyRevocationList,
  verifyToken,
} from "@ipop/shared";
import { CaError } from "./errors.js";
import { LeaseTable } from "./leases.js";
import { ReplayCache } from "./replay-cache.js";
import type { NetworkState, RemoteStateChange, SignalStateStore } from "./store/state-store.js";

/** The CA settings of a server (`--ca`, `--ca-key`, `--lease`, `--crl`). */
export interface AuthorityOptions {
  /** The network's CA certificate: only members it certifies may join, and only its network. */
  readonly ca: Certificate;
  /** The CA's private key seed: with it, the server issues certificates for join tokens. */
  readonly caKey?: Uint8Array;
  /** Lifetime of issued certificates, overriding what tokens ask for. */
  readonly leaseSeconds?: number;
  /** The revocation list to start with (e.g. read from `--crl`). */
  readonly revocationList?: RevocationList;
  /** Called with every newer list accepted, to persist it (`--crl`). Errors are the caller's to log. */
  readonly saveRevocationList?: (text: string) => void;
  /** How long a leaving member's address stays reserved for it. Default 30 s. */
  readonly releaseGraceMs?: number;
  /** Join proofs and renewals may be this far from the server's clock. Default 120 s. */
  readonly maxSkewMs?: number;
  /** Most address leases kept. Default 65,536. */
  readonly maxLeases?: number;
  /**
   * Where leases and revocation lists are kept past a restart (`--state-dir`, `--redis`), and what it
   * held at start. A kept list newer than `revocationList` wins.
   */
  readonly state?: { readonly store: SignalStateStore; readonly kept: NetworkState };
}

/** Seconds `notBefore` is set back, as `ipop cert` does, for clocks a little behind. */
const CLOCK_SKEW_SECONDS = 60;
const DEFAULT_RELEASE_GRACE_MS = 30_000;
const DEFAULT_MAX_LEASES = 65_536;
const REPLAY_CAPACITY = 100_000;

/** A refusal, as the session sends it: the protocol's error code, the identity verdict's code as `reason`. */
export interface AuthorityRefusal {
  readonly ok: false;
  readonly code: SignalErrorCode;
  readonly message: string;
  readonly reason?: string;
  /** For refused joins: the close code that ends the connection. */
  readonly closeCode?: number;
}

/** A certificate issued by `enroll` or `renew`. */
export interface Issued {
  readonly ok: true;
  readonly cert: string;
  readonly ca: string;
  readonly name: string;
  readonly nodeId: string;
  readonly ip: string;
  /** The token it was issued for; absent for a renewal. */
  readonly tokenId?: string;
}

/** What the authority needs to know about the members of its network. */
export interface MemberDirectory {
  /** Node id of the member using `address` (a 32-bit number), if any. */
  userOf(address: number): string | undefined;
  /** Node id of a member with this name, if any. */
  named(name: string): string | undefined;
}

function refuse(code: SignalErrorCode, message: string, reason?: string, closeCode?: number): AuthorityRefusal {
  return {
    ok: false,
    code,
    message,
    ...(reason === undefined ? {} : { reason }),
    ...(closeCode === undefined ? {} : { closeCode }),
  };
}

function fromVerdict(code: SignalErrorCode, failure: IdentityFailure, closeCode?: number): AuthorityRefusal {
  if (failure.code === "IPOP_CERT_REVOKED") {
    return refuse(
      "revoked",
      failure.message,
      failure.code,
      closeCode === undefined ? undefined : SignalCloseCode.revoked,
    );
  }
  return refuse(code, failure.message, failure.code, closeCode);
}

/** The address a certificate leases: its fixed address when that lies in one of its own pools. */
export function leasedAddress(cert: Certificate): number | undefined {
  const address = cert.address?.address;
  if (address === undefined || !cert.poolPrefixes.some((p) => prefixContainsAddress(p, address))) return undefined;
  return address;
}

/**
 * The CA side of a signaling server for one network: who may join, issuing certificates for
 * tokens (with address leases), and the revocation list. No I/O and no clock of its own: the
 * session passes the wall-clock time and a view of the members. Never throws on client input.
 */
export class Authority {
  readonly network: string;
  private readonly caText: string;
  private readonly leases: LeaseTable;
  private readonly replays = new ReplayCache(REPLAY_CAPACITY);
  private list: RevocationList | undefined;
  private revoked: ReadonlySet<string> = new Set();
  private readonly maxSkewMs: number;

  /**
   * Checks the settings: the CA is a valid CA now, the key is its key, the list is its list.
   * @throws {@link CaError} naming what is wrong.
   */
  constructor(
    private readonly options: AuthorityOptions,
    nowMs: number,
  ) {
    const { ca, caKey, leaseSeconds, revocationList } = options;
    const caCheck = checkCa(ca, { nowSeconds: certificateSecondsOf(nowMs) });
    if (!caCheck.ok) throw new CaError(`--ca: ${caCheck.message}`);
    if (caKey !== undefined && !keyMatches(caKey, ca.publicKey)) {
      throw new CaError(`--ca-key is not the key of CA "${ca.name}"; pass the ca.key made with this ca.crt`);
    }
    if (
      leaseSeconds !== undefined &&
      (!Number.isInteger(leaseSeconds) || leaseSeconds < MIN_LEASE_SECONDS || leaseSeconds > MAX_LEASE_SECONDS)
    ) {
      throw new CaError(`--lease must be from ${MIN_LEASE_SECONDS} s to ${MAX_LEASE_SECONDS / 86_400} days`);
    }
    if (revocationList !== undefined) {
      const verified = verifyRevocationList(revocationList, { ca });
      if (!verified.ok) throw new CaError(`--crl: ${verified.message}`);
      this.adopt(revocationList);
    }
    this.network = ca.network;
    this.caText = formatCertificate(ca);
    this.maxSkewMs = options.maxSkewMs ?? DEFAULT_JOIN_MAX_SKEW_MS;
    const { state } = options;
    const network = ca.network;
    this.leases = new LeaseTable({
      releaseGraceMs: options.releaseGraceMs ?? DEFAULT_RELEASE_GRACE_MS,
      maxLeases: options.maxLeases ?? DEFAULT_MAX_LEASES,
      ...(state === undefined
        ? {}
        : {
            observer: {
              saved: (lease) => state.store.putLease(network, lease),
              dropped: (address) => state.store.deleteLease(network, address),
            },
          }),
    });
    if (state !== undefined) this.restore(state.kept, nowMs);
  }

  /** Takes up what the store kept: its leases, and its revocation list if newer than the one given. */
  private restore(kept: NetworkState, nowMs: number): void {
    const { ca } = this.options;
    if (kept.revocationList !== undefined) {
      const parsed = parseRevocationList(kept.revocationList);
      const verified = parsed.ok ? verifyRevocationList(parsed.value, { ca, network: ca.network }) : parsed;
      // A kept list that no longer verifies (the CA was replaced) is not fatal: the --crl file, if any, stands.
      if (verified.ok && verified.value.serial > (this.list?.serial ?? -1)) this.adopt(verified.value);
    }
    this.leases.restore(kept.leases, nowMs);
    this.leases.dropRevoked(this.revoked);
  }

  /** Whether this server issues certificates (it has the CA key). */
  get issues(): boolean {
    return this.options.caKey !== undefined;
  }

  /** The current revocation list's text, if any. */
  revocationList(): string | undefined {
    return this.list?.text;
  }

  /** Whether `cert` is revoked by the current list. */
  isRevoked(cert: Pick<Certificate, "nodeId" | "name">): boolean {
    return this.revoked.has(cert.nodeId) || this.revoked.has(cert.name);
  }

  /**
   * Decides a join: the network is the CA's, the credential is a fresh, unseen proof by a valid,
   * unrevoked certificate for exactly this member record, and a leased address is not reserved for
   * another key. Returns the certificate.
   */
  admitJoin(
    network: string,
    member: MemberInfo,
    credential: JoinCredential | undefined,
    nowMs: number,
  ): { readonly ok: true; readonly cert: Certificate } | AuthorityRefusal {
    const close = SignalCloseCode.unauthorized;
    if (network !== this.network) {
      return refuse(
        "unauthorized",
        `this server admits members of network "${this.network}" only, not "${network}"`,
        "IPOP_CERT_WRONG_NETWORK",
        close,
      );
    }
    if (credential === undefined) {
      return refuse(
        "unauthorized",
        `network "${network}" admits certified members only: start the node with --ca, --cert and --key, or --token`,
        "IPOP_JOIN_NO_CREDENTIAL",
        close,
      );
    }
    const verdict = verifyJoinProof(credential, {
      network,
      nodeId: member.nodeId,
      ip: member.ip,
      name: member.name,
      ca: this.options.ca,
      nowMs,
      maxSkewMs: this.maxSkewMs,
      revoked: this.revoked,
    });
    if (!verdict.ok) return fromVerdict("unauthorized", verdict, close);
    const cert = verdict.value;
    if (!this.replays.remember(credential.sig, credential.time + this.maxSkewMs, nowMs)) {
      return refuse(
        "unauthorized",
        "this join proof was used before: a replay; a node signs a fresh proof for every join",
        "IPOP_JOIN_REPLAYED",
        close,
      );
    }
    const leased = leasedAddress(cert);
    const reservedFor = leased === undefined ? undefined : this.leases.reservedFor(leased, nowMs);
    if (reservedFor !== undefined && reservedFor !== cert.nodeId) {
      return refuse(
        "address-in-use",
        `${member.ip} has been leased to another node since this certificate was issued; enroll again for a new address`,
        undefined,
        SignalCloseCode.addressInUse,
      );
    }
    return { ok: true, cert };
  }

  /** A member admitted by {@link admitJoin} joined: its leased address stays reserved while it is a member. */
  memberJoined(cert: Certificate): void {
    const address = leasedAddress(cert);
    if (address !== undefined) this.leases.claim(address, cert.nodeId, cert.name, cert.notAfter * 1000);
  }

  /** A member left: its leased address is kept for it for the grace period. */
  memberLeft(cert: Certificate, nowMs: number): void {
    const address = leasedAddress(cert);
    if (address !== undefined) this.leases.release(address, cert.nodeId, nowMs);
  }

  /** Issues a certificate for a join token, with a free address from its pool. */
  enroll(request: EnrollRequest, nowMs: number, members: MemberDirectory): Issued | AuthorityRefusal {
    const { caKey, ca } = this.options;
    if (caKey === undefined) {
      return refuse("no-ca", "this server does not issue certificates (it was started without --ca-key)");
    }
    if (request.network !== this.network) {
      return refuse(
        "token-invalid",
        `this server issues certificates for network "${this.network}" only`,
        "IPOP_TOKEN_WRONG_NETWORK",
      );
    }
    const parsed = parseToken(request.token);
    if (!parsed.ok) return fromVerdict("token-invalid", { ...parsed, message: `token: ${parsed.message}` });
    const nowSeconds = certificateSecondsOf(nowMs);
    const verified = verifyToken(parsed.value, { ca, nowSeconds, network: request.network });
    if (!verified.ok) return fromVerdict("token-invalid", verified);
    const token = verified.value;
    const proof = verifyEnrollRequest(request);
    if (!proof.ok) return fromVerdict("unauthorized", proof);
    const publicKey = proof.value;
    const keyId = nodeIdOf(publicKey);
    if (this.revoked.has(keyId) || this.revoked.has(request.name)) {
      return refuse(
        "revoked",
        `${this.revoked.has(keyId) ? `key ${keyId}` : `name "${request.name}"`} is revoked in network "${this.network}"`,
        "IPOP_CERT_REVOKED",
      );
    }
    const nameHolder = this.leases.nameHolder(request.name, nowMs) ?? members.named(request.name);
    if (nameHolder !== undefined && !nameHolder.startsWith(keyId)) {
      return refuse("name-in-use", `name "${request.name}" is in use by another node; choose another --name`);
    }
    const lifetime = this.options.leaseSeconds ?? token.leaseSeconds;
    const notAfter = Math.min(nowSeconds + lifetime, ca.notAfter);
    const lease = this.leases.allocate(token.poolPrefix, keyId, request.name, nowMs, notAfter * 1000, members.userOf);
    if (!lease.ok) {
      return refuse("pool-exhausted", `pool ${token.pool} has no free address; make a token for another pool`);
    }
    const ip = formatIpv4Address(lease.address);
    const cert = this.sign({
      name: request.name,
      ip: `${ip}/${token.prefixLength}`,
      pools: [token.pool],
      groups: token.groups ?? [],
      notBefore: nowSeconds - CLOCK_SKEW_SECONDS,
      notAfter,
      publicKey,
    });
    if (typeof cert !== "string") return cert;
    return { ok: true, cert, ca: this.caText, name: request.name, nodeId: keyId, ip, tokenId: token.id };
  }

  /** Issues a fresh certificate for the key, name, address and groups of a leased one. */
  renew(request: RenewRequest, nowMs: number, members: MemberDirectory): Issued | AuthorityRefusal {
    const { caKey, ca } = this.options;
    if (caKey === undefined) {
      return refuse("no-ca", "this server does not issue certificates (it was started without --ca-key)");
    }
    const verified = verifyRenewRequest(request, { ca, nowMs, maxSkewMs: this.maxSkewMs, revoked: this.revoked });
    if (!verified.ok) return fromVerdict("unauthorized", verified);
    const old = verified.value;
    const address = leasedAddress(old);
    if (address === undefined) {
      return refuse(
        "unauthorized",
        `certificate "${old.name}" holds no leased address (it was not issued for a token); sign a new one with ipop cert sign`,
        "IPOP_RENEW_NOT_LEASED",
      );
    }
    const nowSeconds = certificateSecondsOf(nowMs);
    // The original lifetime, less the backdating, unless the server sets one.
    const lifetime =
      this.options.leaseSeconds ??
      Math.min(MAX_LEASE_SECONDS, Math.max(MIN_LEASE_SECONDS, old.notAfter - old.notBefore - CLOCK_SKEW_SECONDS));
    const notAfter = Math.min(nowSeconds + lifetime, ca.notAfter);
    const lease = this.leases.renew(address, old.nodeId, old.name, nowMs, notAfter * 1000, members.userOf);
    if (!lease.ok) {
      return refuse(
        "address-in-use",
        `${formatIpv4Address(address)} is now used by another node; enroll again with a token for a new address`,
      );
    }
    const cert = this.sign({
      name: old.name,
      ip: old.ip!,
      pools: old.pools ?? [],
      groups: old.groups,
      notBefore: nowSeconds - CLOCK_SKEW_SECONDS,
      notAfter,
      publicKey: old.publicKey,
    });
    if (typeof cert !== "string") return cert;
    return { ok: true, cert, ca: this.caText, name: old.name, nodeId: old.nodeId, ip: formatIpv4Address(address) };
  }

  /**
   * Takes a revocation list if the CA signed it for this network and it is newer than the one
   * held; the leases of the keys and names it revokes are dropped. Returns the list.
   */
  publish(
    network: string,
    text: string,
  ): { readonly ok: true; readonly list: RevocationList; readonly previousSerial: number } | AuthorityRefusal {
    if (network !== this.network) {
      return refuse(
        "revocations-refused",
        `this server keeps the revocation list of network "${this.network}" only`,
        "IPOP_CRL_WRONG_NETWORK",
      );
    }
    const parsed = parseRevocationList(text);
    if (!parsed.ok) return fromVerdict("revocations-refused", parsed);
    const verified = verifyRevocationList(parsed.value, { ca: this.options.ca, network });
    if (!verified.ok) return fromVerdict("revocations-refused", verified);
    const list = verified.value;
    const previousSerial = this.list?.serial ?? -1;
    if (list.serial <= previousSerial) {
      return refuse(
        "revocations-refused",
        `this server holds revocation list ${previousSerial}; a list must have a higher serial (ipop cert revoke raises it)`,
        "IPOP_CRL_STALE",
      );
    }
    this.adopt(list);
    this.leases.dropRevoked(this.revoked);
    this.options.saveRevocationList?.(list.text);
    this.options.state?.store.putRevocationList(network, list.text);
    return { ok: true, list, previousSerial };
  }

  /**
   * A change another instance made (`--redis`): its leases are mirrored as they are; a revocation list
   * is taken if it verifies and is newer than ours, and then returned, so the caller can tell local
   * members and disconnect revoked ones.
   */
  applyRemote(change: RemoteStateChange): RevocationList | undefined {
    if (change.network !== this.network) return undefined;
    if (change.kind === "lease") {
      this.leases.mirror(change.lease);
      return undefined;
    }
    if (change.kind === "drop") {
      this.leases.forget(change.address);
      return undefined;
    }
    const parsed = parseRevocationList(change.text);
    if (!parsed.ok) return undefined;
    const verified = verifyRevocationList(parsed.value, { ca: this.options.ca, network: this.network });
    if (!verified.ok || verified.value.serial <= (this.list?.serial ?? -1)) return undefined;
    this.adopt(verified.value);
    return verified.value;
  }

  /** Drops leases whose certificates have expired; call now and then. */
  sweep(nowMs: number): void {
    this.leases.sweep(nowMs);
  }

  /** Address leases held, for health checks. */
  get leaseCount(): number {
    return this.leases.size;
  }

  private adopt(list: RevocationList): void {
    this.list = list;
    this.revoked = revokedSet(list);
  }

  private sign(request: Parameters<typeof signCertificate>[0]): string | AuthorityRefusal {
    try {
      return signCertificate(request, this.options.ca, this.options.caKey!);
    } catch (error) {
      // Only a token the CA's constraints no longer allow gets here; the message says which.
      return refuse("token-invalid", `cannot issue: ${errorMessage(error)}`);
    }
  }
}
