/**
 * Talks to an agent's control socket straight from the test process: the socket is a file under
 * /run/ipop, reachable from any network namespace. This is the request `ipop status` and
 * `ipop route` send, without starting a Node process per question, which is what makes questions
 * to 50 agents about 2,450 pairs affordable on two cores.
 */
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { LabError } from "../errors.js";
import type { RouteResult } from "./agents.js";

/** Sends one request line and resolves with the agent's `result`. */
export function controlRequest(path: string, request: Record<string, unknown>, timeoutMs = 15_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let data = "";
    socket.setEncoding("utf8");
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new LabError("AGENT_CONTROL_FAILED", `${path}: no answer to ${request.op} within ${timeoutMs} ms`));
    });
    socket.on("connect", () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on("data", (chunk: string) => {
      data += chunk;
    });
    socket.on("error", (error) => reject(new LabError("AGENT_CONTROL_FAILED", `${path}: ${error.message}`)));
    socket.on("end", () => {
      try {
        const response = JSON.parse(data) as { ok: boolean; result?: unknown; error?: string };
        if (response.ok) resolve(response.result);
        else
          reject(new LabError("AGENT_CONTROL_FAILED", `${path}: the agent refused ${request.op}: ${response.error}`));
      } catch {
        reject(
          new LabError("AGENT_CONTROL_FAILED", `${path}: unreadable answer to ${request.op}: ${data.slice(0, 200)}`),
        );
      }
    });
  });
}

/** What `ipop route IP --json` prints, asked over the control socket at `path`. */
export async function controlRoute(path: string, ip: string): Promise<RouteResult> {
  return (await controlRequest(path, { op: "route", ip })) as RouteResult;
}

/** Asks for the paths to several virtual IPs at once (the control socket's `routes` request). */
export async function controlRoutes(path: string, ips: readonly string[]): Promise<RouteResult[]> {
  return (await controlRequest(path, { op: "routes", ips })) as RouteResult[];
}

/** Resident memory of process `pid` and all its descendants, in bytes (0 once it is gone). */
export function treeRssBytes(pid: number): number {
  return treeMemoryBytes(pid, "/status", /^VmRSS:\s+(\d+)\s+kB/m);
}

/**
 * Proportional set size of process `pid` and all its descendants, in bytes (0 once it is gone): pages
 * shared with other processes (the node binary's, the libraries') count a share each, so the sum
 * over all agents on a host is what they take from it together.
 */
export function treePssBytes(pid: number): number {
  return treeMemoryBytes(pid, "/smaps_rollup", /^Pss:\s+(\d+)\s+kB/m);
}

function treeMemoryBytes(pid: number, file: string, field: RegExp): number {
  let total = 0;
  try {
    const kb = field.exec(readFileSync(`/proc/${pid}${file}`, "utf8"));
    total += kb ? Number(kb[1]) * 1024 : 0;
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    for (const child of children ? children.split(/\s+/) : []) total += treeMemoryBytes(Number(child), file, field);
  } catch {
    // The process exited between the reads: it holds no memory.
  }
  return total;
}
