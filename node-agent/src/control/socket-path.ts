import { statSync } from "node:fs";

/** Where control sockets live; root-only (0700), so only root can ask an agent anything. */
export const CONTROL_DIR = "/run/ipop";

/**
 * The control socket of the agent that owns `dev` in this process's network namespace. Agents in
 * different namespaces may all use the device name `ipop0` while sharing one filesystem, so the path
 * carries the namespace's inode number: `ip netns exec X ipop status` finds the agent of namespace X.
 */
export function controlSocketPath(dev: string): string {
  const netns = statSync("/proc/self/ns/net").ino;
  return `${CONTROL_DIR}/${netns}-${dev}.sock`;
}
