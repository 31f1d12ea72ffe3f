import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { dirname } from "node:path";
import { errorMessage } from "@ipop/shared";
import { ControlError } from "../errors.js";

/**
 * A request is one short JSON line: `{"op":"status"}`, `{"op":"route","ip":"10.88.0.7"}`,
 * `{"op":"routes","ips":["10.88.0.7","h9"]}`. Longer is refused.
 */
const MAX_REQUEST_BYTES = 4096;
// Longer than the core's trace timeout (5 s), so `ipop route` gets its answer.
const REQUEST_TIMEOUT_MS = 10_000;

/** A request as the client sent it: `op` names the operation, other fields are its arguments. */
export type ControlRequest = { readonly op: string } & Readonly<Record<string, unknown>>;
export type ControlHandler = (request: ControlRequest) => Promise<unknown>;

/**
 * The agent's local control socket: newline-delimited JSON, one request and one response per
 * connection. Responses are `{"ok":true,"result":...}` or `{"ok":false,"error":"..."}`.
 */
export class ControlServer {
  private readonly server: Server;

  private constructor(
    readonly path: string,
    handler: ControlHandler,
  ) {
    this.server = createServer((socket) => serve(socket, handler));
  }

  static async listen(path: string, handler: ControlHandler): Promise<ControlServer> {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // A socket file left by a crashed agent would make listen fail with EADDRINUSE.
    rmSync(path, { force: true });
    const control = new ControlServer(path, handler);
    await new Promise<void>((resolve, reject) => {
      control.server.once("error", (error) => reject(new ControlError(`cannot listen on ${path}: ${error.message}`)));
      control.server.listen(path, () => resolve());
    });
    chmodSync(path, 0o600);
    return control;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.path, { force: true });
  }
}

function serve(socket: Socket, handler: ControlHandler): void {
  let buffered = "";
  socket.setEncoding("utf8");
  socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy());
  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk: string) => {
    buffered += chunk;
    if (buffered.length > MAX_REQUEST_BYTES) {
      reply(socket, { ok: false, error: "request too large" });
      return;
    }
    const newline = buffered.indexOf("\n");
    if (newline < 0) return;
    socket.pause();
    let request: unknown;
    try {
      request = JSON.parse(buffered.slice(0, newline));
    } catch {
      reply(socket, { ok: false, error: "request is not JSON" });
      return;
    }
    if (typeof request !== "object" || request === null || typeof (request as { op?: unknown }).op !== "string") {
      reply(socket, { ok: false, error: "request needs an op" });
      return;
    }
    handler(request as ControlRequest).then(
      (result) => reply(socket, { ok: true, result }),
      (error: unknown) => reply(socket, { ok: false, error: errorMessage(error) }),
    );
  });
}

function reply(socket: Socket, response: unknown): void {
  if (!socket.writable) return;
  socket.end(`${JSON.stringify(response)}\n`);
}
