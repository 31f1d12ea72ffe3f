/**
 * Naming of lab namespaces and interfaces. Names carry the creating process's pid so that a later run
 * can tell a crashed run's leftovers (pid gone) from a lab that is still in use by another process.
 */

/** Namespace prefix of every lab unless a caller picks another. */
export const DEFAULT_PREFIX = "ipoplab";

/** Linux IFNAMSIZ minus the terminating NUL. */
export const MAX_IFNAME = 15;

/** The names one lab instance uses. */
export interface LabNames {
  /** Every namespace of this lab starts with this, e.g. `ipoplab-4711-1-`. */
  readonly nsPrefix: string;
  /** Every veth end this lab names starts with this, e.g. `il3n3_1_`. */
  readonly vethPrefix: string;
  /** Namespace name of a lab host ("br", "sig", "h1", ...). */
  ns(host: string): string;
  /** Name of the bridge-side veth end of the `index`-th attached namespace. */
  veth(index: number): string;
}

/**
 * Names for lab number `serial` of process `pid`.
 * The veth names are in base 36 to stay within {@link MAX_IFNAME} for any pid (max 4194304 = "2ihhq").
 */
export function labNames(prefix: string, pid: number, serial: number): LabNames {
  const nsPrefix = `${prefix}-${pid}-${serial}-`;
  const vethPrefix = `il${pid.toString(36)}_${serial.toString(36)}_`;
  return {
    nsPrefix,
    vethPrefix,
    ns: (host) => `${nsPrefix}${host}`,
    veth: (index) => {
      const name = `${vethPrefix}${index}`;
      if (name.length > MAX_IFNAME) throw new RangeError(`interface name ${name} is longer than ${MAX_IFNAME}`);
      return name;
    },
  };
}

/** What a lab namespace name says about its owner. */
export interface ParsedLabNamespace {
  pid: number;
  serial: number;
  host: string;
}

/** Parses a namespace name made by {@link labNames}; undefined for anything else. */
export function parseLabNamespace(name: string, prefix = DEFAULT_PREFIX): ParsedLabNamespace | undefined {
  if (!name.startsWith(`${prefix}-`)) return undefined;
  const m = /^(\d+)-(\d+)-([A-Za-z0-9_.]+)$/.exec(name.slice(prefix.length + 1));
  if (!m) return undefined;
  return { pid: Number(m[1]), serial: Number(m[2]), host: m[3]! };
}
