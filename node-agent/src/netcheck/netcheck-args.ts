/** `ipop netcheck`'s command line. */
import { parseArgs } from "node:util";
import { errorMessage } from "@ipop/shared";
import { UsageError } from "../errors.js";
import { parseIceUrl } from "../link/ice-servers.js";

export interface NetcheckOptions {
  readonly command: "netcheck";
  /** `stun:`/`turn:` URLs to ask, without credentials. */
  readonly servers: readonly string[];
  readonly json: boolean;
}

/** Parses the arguments after `ipop netcheck`. */
export function parseNetcheck(args: readonly string[]): NetcheckOptions {
  let values: { "ice-server"?: string[]; json?: boolean };
  try {
    values = parseArgs({
      args: [...args],
      options: { "ice-server": { type: "string", multiple: true }, json: { type: "boolean", default: false } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
  const servers = values["ice-server"] ?? [];
  if (servers.length === 0) {
    throw new UsageError(
      "ipop netcheck needs STUN servers to ask: --ice-server stun:HOST:PORT (repeat it; two servers, or one on two addresses, tell the NAT's mapping)",
    );
  }
  for (const url of servers) {
    if (parseIceUrl(url) === undefined) {
      throw new UsageError("--ice-server takes stun:HOST:PORT or turn:HOST:PORT, without credentials");
    }
  }
  return { command: "netcheck", servers, json: values.json === true };
}
