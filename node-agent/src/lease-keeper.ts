/**
 * Keeps a token-enrolled node's certificate current: its certificate lives only as long as its
 * address lease, so the agent renews it (proving it holds the key) when two thirds of its lifetime
 * have passed, retrying with backoff on failure until it expires.
 */
import { type Certificate, errorMessage } from "@ipop/shared";
import { type IssuedCertificate, renew } from "./enroll-client.js";

export interface LeaseKeeperOptions {
  /** The signaling server that issued the certificate (`ipop-signal --ca-key`). */
  readonly url: string;
  /** For a `wss://` URL with a private CA: that CA (PEM). */
  readonly signalCa?: string;
  readonly issued: IssuedCertificate;
  readonly seed: Uint8Array;
  /** A renewed certificate, same key and address. */
  readonly onRenewed: (issued: IssuedCertificate) => void;
  /** Renewal failed (`willRetry`: another attempt is scheduled before expiry). */
  readonly onFailure: (message: string, willRetry: boolean) => void;
  /** Renewing is a function, so tests can stand in for the server. */
  readonly renewOnce?: typeof renew;
  /** Wall-clock milliseconds (`Date.now`). */
  readonly clock?: () => number;
}

const MIN_RETRY_MS = 1_000;
const MAX_RETRY_MS = 60_000;

export class LeaseKeeper {
  private timer: NodeJS.Timeout | undefined;
  private current: IssuedCertificate;
  private retryMs = MIN_RETRY_MS;
  private stopped = false;

  constructor(private readonly options: LeaseKeeperOptions) {
    this.current = options.issued;
  }

  get certificate(): Certificate {
    return this.current.cert;
  }

  start(): void {
    this.schedule(this.renewAt() - this.now());
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private now(): number {
    return (this.options.clock ?? Date.now)();
  }

  /** Two thirds into the certificate's lifetime. */
  private renewAt(): number {
    const { notBefore, notAfter } = this.current.cert;
    return (notBefore + ((notAfter - notBefore) * 2) / 3) * 1000;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    // unref: a pending renewal must not keep a stopping agent alive.
    this.timer = setTimeout(() => void this.attempt(), Math.max(0, delayMs)).unref();
  }

  private async attempt(): Promise<void> {
    try {
      const renewed = await (this.options.renewOnce ?? renew)({
        url: this.options.url,
        ...(this.options.signalCa === undefined ? {} : { signalCa: this.options.signalCa }),
        certText: this.current.certText,
        seed: this.options.seed,
        ca: this.current.ca,
      });
      if (this.stopped) return;
      this.current = renewed;
      this.retryMs = MIN_RETRY_MS;
      this.options.onRenewed(renewed);
      this.schedule(this.renewAt() - this.now());
    } catch (error) {
      if (this.stopped) return;
      const left = this.current.cert.notAfter * 1000 - this.now();
      const willRetry = left > this.retryMs;
      this.options.onFailure(errorMessage(error), willRetry);
      if (willRetry) {
        this.schedule(this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
      }
    }
  }
}
