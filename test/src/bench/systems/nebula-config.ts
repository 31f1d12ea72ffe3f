/**
 * Nebula's YAML config for one bench host. Written by hand (YAML is JSON's superset, so every value is
 * emitted as JSON) to need no YAML library.
 */

/** What differs between the two hosts' configs. */
export interface NebulaHostConfig {
  caCert: string;
  cert: string;
  key: string;
  /** Tunnel device name. */
  dev: string;
  mtu: number;
  listenPort: number;
  /** The lighthouse answers queries; the other host asks it. h1 is the lighthouse. */
  lighthouse: boolean;
  /** Tunnel IP of the lighthouse, for the non-lighthouse host. */
  lighthouseIp: string;
  /** Tunnel IP -> underlay "ip:port", for every host (no discovery needed, no punching). */
  staticHosts: Readonly<Record<string, string>>;
}

/** The config text for one host. */
export function nebulaConfig(c: NebulaHostConfig): string {
  const j = JSON.stringify;
  const staticMap = Object.entries(c.staticHosts).map(([ip, addr]) => `  ${j(ip)}: [${j(addr)}]`);
  return [
    "pki:",
    `  ca: ${j(c.caCert)}`,
    `  cert: ${j(c.cert)}`,
    `  key: ${j(c.key)}`,
    "static_host_map:",
    ...staticMap,
    "lighthouse:",
    `  am_lighthouse: ${c.lighthouse}`,
    `  hosts: ${c.lighthouse ? "[]" : `[${j(c.lighthouseIp)}]`}`,
    "listen:",
    '  host: "0.0.0.0"',
    `  port: ${c.listenPort}`,
    "punchy:",
    "  punch: false",
    "tun:",
    "  disabled: false",
    `  dev: ${j(c.dev)}`,
    `  mtu: ${c.mtu}`,
    "logging:",
    "  level: info",
    "  format: text",
    // Allow everything: the bench measures the data path, not the firewall's rule matching.
    "firewall:",
    "  outbound:",
    "    - port: any",
    "      proto: any",
    "      host: any",
    "  inbound:",
    "    - port: any",
    "      proto: any",
    "      host: any",
    "",
  ].join("\n");
}
