import { MAX_SIGNAL_MESSAGE_BYTES, type ServerLimits } from "@ipop/shared";
import { OptionError } from "./errors.js";

/**
 * Every limit the server enforces. All of them are explicit so an operator can reason about the worst case:
 * memory is bounded by `maxConnections x (maxMessageBytes + maxBufferedBytes)` plus small per-connection state.
 */
export interface SignalServerLimits {
  /**
   * Largest message in either direction (bytes of UTF-8 JSON), at most the protocol's
   * {@link MAX_SIGNAL_MESSAGE_BYTES}. A bigger incoming frame closes the socket with 1009. Outgoing messages are
   * held to it too: a `send` whose forwarded `message` would be bigger (it is a few bytes longer) is refused
   * with `too-large`, and a join whose `welcome` would be bigger is refused with `network-full`.
   */
  readonly maxMessageBytes: number;
  /** Sustained messages per second per connection (token-bucket refill rate). */
  readonly messagesPerSecond: number;
  /** Messages a connection may send back to back before the rate applies (token-bucket capacity). */
  readonly burstMessages: number;
  /**
   * How many rate-limited messages a connection may accumulate (recovering one per second) before it is closed
   * with `SignalCloseCode.rateLimited`: a brief overshoot costs a few `rate-limited` errors, sustained abuse
   * costs the connection.
   */
  readonly rateLimitStrikes: number;
  /** Members per network; a join beyond it gets `network-full` and close 4002. */
  readonly maxMembers: number;
  /**
   * How many members a `welcome` lists: those closest to the joiner on the ring, alternating clockwise and
   * anticlockwise (its likely near neighbours). The same number of closest members hear of a join or a
   * leave. Everyone is listed while the network is that small. The `welcome` must fit in `maxMessageBytes`
   * (16 of the longest records take about 3 KiB); a join whose would not is refused with `network-full`.
   */
  readonly welcomeMembers: number;
  /** Open WebSocket connections in total; upgrades beyond it get HTTP 503. */
  readonly maxConnections: number;
  /** A connection that has not joined after this long is closed with 4004. */
  readonly joinTimeoutMs: number;
  /** Consecutive invalid messages tolerated before closing with 4000. */
  readonly maxInvalidMessages: number;
  /** Interval of WebSocket pings; a connection that has not answered the previous ping is terminated. */
  readonly pingIntervalMs: number;
  /**
   * Outgoing bytes a connection may have queued (it is not reading). Once more than this is queued the
   * connection is terminated, so one stalled reader cannot make the server buffer without bound.
   */
  readonly maxBufferedBytes: number;
}

/**
 * The defaults: a network of up to 16,384 members on one server (10,000 measured: about 10 KiB of server
 * memory per member; docs/signaling.md, "State and scaling").
 */
export const DEFAULT_LIMITS: SignalServerLimits = Object.freeze({
  maxMessageBytes: MAX_SIGNAL_MESSAGE_BYTES,
  // A node joining a busy network trickles ICE candidates to several peers at once; 50/s leaves room for that.
  messagesPerSecond: 50,
  burstMessages: 100,
  rateLimitStrikes: 20,
  maxMembers: 16_384,
  // The same number as the simulator's model of the server (test/src/sim/world.ts).
  welcomeMembers: 16,
  maxConnections: 16_384,
  joinTimeoutMs: 10_000,
  maxInvalidMessages: 10,
  pingIntervalMs: 10_000,
  maxBufferedBytes: 1024 * 1024,
});

/** Smallest accepted `maxMessageBytes`: a join with the longest names must still fit. */
export const MIN_MESSAGE_BYTES = 512;

interface Range {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
}

const RANGES: { readonly [K in keyof SignalServerLimits]: Range } = {
  maxMessageBytes: { min: MIN_MESSAGE_BYTES, max: MAX_SIGNAL_MESSAGE_BYTES, integer: true },
  messagesPerSecond: { min: 0.1, max: 100_000, integer: false },
  burstMessages: { min: 1, max: 1_000_000, integer: true },
  rateLimitStrikes: { min: 1, max: 1_000_000, integer: true },
  maxMembers: { min: 1, max: 1_000_000, integer: true },
  welcomeMembers: { min: 1, max: 1_000, integer: true },
  maxConnections: { min: 1, max: 1_000_000, integer: true },
  joinTimeoutMs: { min: 1, max: 3_600_000, integer: true },
  maxInvalidMessages: { min: 1, max: 1_000_000, integer: true },
  pingIntervalMs: { min: 10, max: 3_600_000, integer: true },
  maxBufferedBytes: { min: 1024, max: 1024 * 1024 * 1024, integer: true },
};

/**
 * Fills in defaults and checks every limit.
 * @throws {@link OptionError} naming the first limit that is out of range.
 */
export function resolveLimits(overrides: Partial<SignalServerLimits> = {}): SignalServerLimits {
  const merged: Record<keyof SignalServerLimits, number> = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(RANGES) as (keyof SignalServerLimits)[]) {
    const value = overrides[key];
    if (value === undefined) continue;
    checkLimit(key, value);
    merged[key] = value;
  }
  return Object.freeze(merged);
}

/** @throws {@link OptionError} when `value` is outside the range allowed for `key`. */
export function checkLimit(key: keyof SignalServerLimits, value: number): void {
  if (!isLimitValue(key, value)) {
    throw new OptionError(`limit ${key} must be ${limitExpectation(key)}, got ${String(value)}`);
  }
}

/** Whether `value` is in the range allowed for `key`. */
export function isLimitValue(key: keyof SignalServerLimits, value: unknown): value is number {
  const range = RANGES[key];
  return (
    typeof value === "number" &&
    Number.isFinite(value) &&
    value >= range.min &&
    value <= range.max &&
    (!range.integer || Number.isInteger(value))
  );
}

/** What `key` may be, for messages: `an integer from 1 to 1000000`. */
export function limitExpectation(key: keyof SignalServerLimits): string {
  const range = RANGES[key];
  return `${range.integer ? "an integer" : "a number"} from ${range.min} to ${range.max}`;
}

/** The part of the limits that nodes learn in `welcome`. */
export function wireLimits(limits: SignalServerLimits): ServerLimits {
  return {
    maxMessageBytes: limits.maxMessageBytes,
    messagesPerSecond: limits.messagesPerSecond,
    maxMembers: limits.maxMembers,
  };
}
