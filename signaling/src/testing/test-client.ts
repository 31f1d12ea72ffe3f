import { type MemberInfo, parseServerMessage, type ServerMessage } from "@ipop/shared";
import type { ClientOptions } from "ws";
import { WebSocket } from "ws";

/** How a connection ended, as the client saw it. */
export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

/** A server message of type `T`. */
export type MessageOf<T extends ServerMessage["t"]> = Extract<ServerMessage, { t: T }>;

const DEFAULT_WAIT_MS = 5000;

/**
 * A WebSocket client for tests: queues every server message in order (each one must pass the shared
 * `parseServerMessage`, or the test fails), so tests can assert exact sequences. Waits have generous timeouts
 * that only turn a hang into a failure; they are not timing assertions.
 */
export class TestClient {
  private readonly queue: ServerMessage[] = [];
  private readonly waiters: (() => void)[] = [];
  private nextRef = 1_000_000;
  /** Frames from the server that failed validation; a correct server never sends one. */
  readonly invalidFrames: string[] = [];
  /** Resolves when the connection has closed. */
  readonly closed: Promise<CloseInfo>;
  private closeInfo: CloseInfo | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data, isBinary) => {
      const text = isBinary ? "<binary>" : data.toString();
      const parsed = parseServerMessage(text);
      if (parsed.ok) this.queue.push(parsed.value);
      else this.invalidFrames.push(text);
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      ws.on("close", (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        this.wake();
      });
    });
    ws.on("error", () => {
      // Surfaces as a close; tests look at `closed`.
    });
  }

  /** Opens a connection to `url` and waits until it is open. */
  static connect(url: string, options: ClientOptions = {}): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options);
      const client = new TestClient(ws);
      ws.once("open", () => resolve(client));
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  /** Connects and joins `network` as `member`; returns the welcome. */
  static async joined(url: string, network: string, member: MemberInfo): Promise<TestClient> {
    const client = await TestClient.connect(url);
    await client.join(network, member);
    return client;
  }

  /** Sends any value as a JSON text frame. */
  sendJson(value: unknown): void {
    this.ws.send(JSON.stringify(value));
  }

  /** Sends a raw frame, text unless `binary`. */
  sendRaw(data: string | Uint8Array, binary = false): void {
    this.ws.send(data, { binary });
  }

  /** Sends a `join` and returns the `welcome`. */
  async join(network: string, member: MemberInfo): Promise<MessageOf<"welcome">> {
    this.sendJson({ v: 1, t: "join", network, member });
    return this.expect("welcome");
  }

  /** Sends a `send`. */
  send(to: string, body: unknown, ref?: number): void {
    this.sendJson(ref === undefined ? { v: 1, t: "send", to, body } : { v: 1, t: "send", to, ref, body });
  }

  /** The next message, whatever it is; rejects if the connection closes or nothing arrives in time. */
  async next(waitMs = DEFAULT_WAIT_MS): Promise<ServerMessage> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const message = this.queue.shift();
      if (message !== undefined) return message;
      if (this.closeInfo !== undefined) {
        throw new Error(`connection closed (${this.closeInfo.code} ${this.closeInfo.reason}) while waiting`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message within ${waitMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The next message, which must be of type `t`. */
  async expect<T extends ServerMessage["t"]>(t: T, waitMs = DEFAULT_WAIT_MS): Promise<MessageOf<T>> {
    const message = await this.next(waitMs);
    if (message.t !== t) throw new Error(`expected ${t}, got ${JSON.stringify(message)}`);
    return message as MessageOf<T>;
  }

  /**
   * A round trip through the server (a `send` to a node id nobody has, answered with `unknown-peer`). Everything
   * the server queued for this client before handling it has arrived by then, so afterwards an empty
   * {@link pending} proves that nothing was sent. Only for joined clients.
   */
  async sync(): Promise<void> {
    const ref = this.nextRef++;
    this.send("nobody-has-this-id", null, ref);
    const reply = await this.expect("error");
    if (reply.code !== "unknown-peer" || reply.ref !== ref) throw new Error(`sync got ${JSON.stringify(reply)}`);
  }

  /** Waits for the connection to close; rejects if it stays open longer than `waitMs`. */
  async closedWithin(waitMs = DEFAULT_WAIT_MS): Promise<CloseInfo> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`connection still open after ${waitMs} ms`)), waitMs);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Messages received but not yet taken. */
  get pending(): readonly ServerMessage[] {
    return this.queue;
  }

  /** Closes normally and waits for the close to finish. */
  async close(): Promise<CloseInfo> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
    return this.closed;
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

/** A member record for tests. */
export function member(nodeId: string, ip = addressFor(nodeId), name = nodeId): MemberInfo {
  return { nodeId, name, ip };
}

/** A virtual IP derived from the node id (FNV-1a, 24 bits), so distinct test nodes rarely share one. */
function addressFor(nodeId: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < nodeId.length; i++) h = Math.imul(h ^ nodeId.charCodeAt(i), 0x01000193);
  h >>>= 8;
  return `10.${(h >>> 16) & 0xff}.${(h >>> 8) & 0xff}.${(h & 0xfe) + 1}`;
}

/** `GET` on the server's HTTP side; returns status and parsed JSON body. */
export async function httpGet(wsUrl: string, path: string, method = "GET"): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${wsUrl.replace(/^ws:/, "http:")}${path}`, { method });
  const text = await res.text();
  return { status: res.status, body: text.length > 0 ? JSON.parse(text) : undefined };
}

/** Polls `condition` until it holds; the timeout only turns a hang into a failure. */
export async function waitFor(condition: () => boolean, what = "condition", waitMs = 5000): Promise<void> {
  const deadline = Date.now() + waitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${waitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
