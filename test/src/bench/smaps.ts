/**
 * Where a process's resident memory goes, from /proc/<pid>/smaps: the pages of the node binary
 * itself, other mapped files (shared libraries, native addons), glibc malloc (the main heap and the
 * per-thread arenas), thread stacks and the rest of the anonymous memory (in a Node process that is
 * mostly V8: its heap pages and generated code). Used by the idle-memory benchmark.
 */
import { readFileSync, realpathSync } from "node:fs";

/** One mapping (VMA) of /proc/<pid>/smaps with the fields the breakdown needs, in kB. */
export interface Vma {
  start: bigint;
  end: bigint;
  perms: string;
  /** Path of the mapped file, a pseudo name like `[heap]` or `[stack]`, or "" for anonymous memory. */
  name: string;
  rssKb: number;
  pssKb: number;
  anonKb: number;
}

/** Resident memory of one process by where it goes, in kB; the parts add up to `rssKb`. */
export interface MemoryBreakdown {
  rssKb: number;
  /** Proportional set size: shared pages divided among the processes that map them. */
  pssKb: number;
  /** Pages of the node executable (code, read-only data with the V8 snapshot and ICU data). */
  nodeBinaryKb: number;
  /** Pages of other files: the C libraries, native addons such as node-datachannel's. */
  otherFilesKb: number;
  /** glibc malloc: the main heap (`[heap]`) plus the arenas threads other than the main one use. */
  mallocKb: number;
  /** How many malloc arenas beside the main heap exist. */
  mallocArenas: number;
  /** Thread stacks (the main thread's and every other thread's). */
  stacksKb: number;
  /** The rest of the anonymous memory: V8's heap pages and code, Node's and libraries' own mmaps. */
  otherAnonKb: number;
}

const HEADER = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \d+\s*(.*)$/;
const FIELD = /^(Rss|Pss|Anonymous):\s+(\d+) kB$/;

/** Parses /proc/<pid>/smaps text into its mappings, in address order. */
export function parseSmaps(text: string): Vma[] {
  const vmas: Vma[] = [];
  let current: Vma | undefined;
  for (const line of text.split("\n")) {
    const header = HEADER.exec(line);
    if (header) {
      current = {
        start: BigInt(`0x${header[1]}`),
        end: BigInt(`0x${header[2]}`),
        perms: header[3]!,
        name: header[4]!.trim(),
        rssKb: 0,
        pssKb: 0,
        anonKb: 0,
      };
      vmas.push(current);
      continue;
    }
    const field = FIELD.exec(line);
    if (!field || !current) continue;
    const kb = Number(field[2]);
    if (field[1] === "Rss") current.rssKb = kb;
    else if (field[1] === "Pss") current.pssKb = kb;
    else current.anonKb = kb;
  }
  return vmas;
}

/**
 * glibc gives each non-main arena a heap of HEAP_MAX_SIZE (64 MiB on 64-bit) aligned to its size:
 * the used part is read-write, the rest reserved with no access, directly after it.
 */
const ARENA_HEAP_BYTES = 64n << 20n;
/** glibc puts one no-access page below every thread stack it allocates. */
const GUARD_PAGE_BYTES = 4096n;

const isAnon = (v: Vma) => v.name === "" || v.name.startsWith("[anon");

function isArenaHeap(vmas: readonly Vma[], i: number): boolean {
  const v = vmas[i]!;
  if (!isAnon(v) || !v.perms.startsWith("rw") || v.start % ARENA_HEAP_BYTES !== 0n) return false;
  if (v.end - v.start === ARENA_HEAP_BYTES) return true;
  const next = vmas[i + 1];
  return (
    next !== undefined &&
    next.start === v.end &&
    next.perms.startsWith("---") &&
    next.end === v.start + ARENA_HEAP_BYTES
  );
}

function isThreadStack(vmas: readonly Vma[], i: number): boolean {
  const v = vmas[i]!;
  const prev = vmas[i - 1];
  return (
    isAnon(v) &&
    v.perms.startsWith("rw") &&
    prev !== undefined &&
    prev.end === v.start &&
    prev.perms.startsWith("---") &&
    prev.end - prev.start === GUARD_PAGE_BYTES
  );
}

/** Splits the mappings' resident memory by where it goes; `nodeBinary` is the node executable's path. */
export function memoryBreakdown(vmas: readonly Vma[], nodeBinary: string): MemoryBreakdown {
  const b: MemoryBreakdown = {
    rssKb: 0,
    pssKb: 0,
    nodeBinaryKb: 0,
    otherFilesKb: 0,
    mallocKb: 0,
    mallocArenas: 0,
    stacksKb: 0,
    otherAnonKb: 0,
  };
  for (const [i, v] of vmas.entries()) {
    b.rssKb += v.rssKb;
    b.pssKb += v.pssKb;
    // A file mapping's written (copy-on-write) pages are anonymous; they count where the file does.
    if (v.name === nodeBinary) b.nodeBinaryKb += v.rssKb;
    else if (v.name.startsWith("/")) b.otherFilesKb += v.rssKb;
    else if (v.name === "[heap]") b.mallocKb += v.rssKb;
    else if (v.name === "[stack]") b.stacksKb += v.rssKb;
    else if (isArenaHeap(vmas, i)) {
      b.mallocKb += v.rssKb;
      b.mallocArenas += 1;
    } else if (isThreadStack(vmas, i)) b.stacksKb += v.rssKb;
    else b.otherAnonKb += v.rssKb;
  }
  return b;
}

/**
 * The native addons (`*.node` files) mapped into a process, by path: which WebRTC backend's library
 * it loaded (node-datachannel's, @roamhq/wrtc's) and the agent's own TUN addon.
 */
export function nativeAddons(vmas: readonly Vma[]): string[] {
  return [...new Set(vmas.filter((v) => v.name.endsWith(".node")).map((v) => v.name))].sort();
}

/** {@link memoryBreakdown} of a live process; `nodeBinary` defaults to the node running this script. */
export function processMemory(pid: number, nodeBinary = realpathSync(process.execPath)): MemoryBreakdown {
  return memoryBreakdown(parseSmaps(readFileSync(`/proc/${pid}/smaps`, "utf8")), nodeBinary);
}
