import { connect } from "node:net";
import { ControlError, NotRunningError } from "../errors.js";

/** Sends one request to the agent's control socket and returns its result. */
export function controlRequest(
  path: string,
  request: { op: string } & Record<string, unknown>,
  timeoutMs = 8_000,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let data = "";
    socket.setEncoding("utf8");
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new ControlError(`the agent at ${path} did not answer within ${timeoutMs} ms`));
    });
    socket.on("connect", () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on("data", (chunk: string) => {
      data += chunk;
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "ECONNREFUSED") {
        reject(
          new NotRunningError(
            `no agent is running for this device in this network namespace (${path} not listening); start one with \`ipop up\``,
          ),
        );
      } else if (error.code === "EACCES") {
        reject(new ControlError(`permission denied on ${path}: run as root`));
      } else reject(new ControlError(`control socket ${path}: ${error.message}`));
    });
    socket.on("end", () => {
      try {
        const response = JSON.parse(data) as { ok: boolean; result?: unknown; error?: string };
        if (response.ok) resolve(response.result);
        else reject(new ControlError(`the agent refused: ${response.error}`));
      } catch {
        reject(new ControlError(`the agent sent an unreadable answer`));
      }
    });
  });
}
