import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { errorCode, errorMessage } from "@ipop/shared";
import { StoreError } from "../errors.js";
import type { SignalLogger } from "../logger.js";
import { MemoryStateStore } from "./memory-store.js";
import { decodeLease, encodeLease } from "./state-store.js";

/** The file in `--state-dir` that holds everything. */
export const STATE_FILE = "signal-state.json";
/** Largest state file read back: 65,536 leases of ~200 bytes, with room to spare. */
const MAX_STATE_BYTES = 64 * 1024 * 1024;
/** Writes within this long of each other go to disk together. */
const WRITE_DELAY_MS = 50;

interface StateFile {
  readonly v: 1;
  readonly networks: Record<string, { leases: unknown[]; revocationList?: string }>;
}

/**
 * The embedded store of one server (`--state-dir DIR`): the whole state in memory, written to
 * `DIR/signal-state.json` at most every 50 ms after a change, and at close. Each write goes to a
 * temporary file that is synced and renamed over the old one, so a crash leaves the previous state or
 * the new one, never half of either. A crash can lose the changes of the last 50 ms; a clean stop
 * (SIGTERM) loses nothing.
 *
 * One file rather than SQLite: the state is small (a lease is ~150 bytes; 65,536 of them ~10 MB),
 * written rarely (enrollments, joins and leaves of leased members), and a JSON file needs no native
 * module.
 */
export class FileStateStore extends MemoryStateStore {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;

  private constructor(
    private readonly path: string,
    private readonly log: SignalLogger,
  ) {
    super();
  }

  /**
   * Opens (creating it, mode 0700, if needed) the state directory and reads its state file.
   * @throws {@link StoreError} when the directory cannot be made or the file is not a state file.
   */
  static async open(dir: string, log: SignalLogger): Promise<FileStateStore> {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new StoreError(`--state-dir ${dir}: cannot create it (${errorMessage(error)})`);
    }
    const store = new FileStateStore(join(dir, STATE_FILE), log);
    await store.read();
    return store;
  }

  override async flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.schedule();
    }
    await this.writing;
  }

  protected override changed(): void {
    this.dirty = true;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.schedule();
    }, WRITE_DELAY_MS);
  }

  /** Queues one write of the current state behind the one in progress. */
  private schedule(): void {
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      try {
        await this.write(this.serialize());
      } catch (error) {
        // Kept in memory and tried again with the next change (or at close); the server keeps serving.
        this.dirty = true;
        this.log.error({ path: this.path, err: errorMessage(error) }, "cannot write the state file");
      }
    });
  }

  private serialize(): string {
    const networks: StateFile["networks"] = {};
    for (const [name, record] of this.networks) {
      networks[name] = {
        leases: [...record.leases.values()].map((lease) => JSON.parse(encodeLease(lease)) as unknown),
        ...(record.revocationList === undefined ? {} : { revocationList: record.revocationList }),
      };
    }
    return JSON.stringify({ v: 1, networks } satisfies StateFile);
  }

  private async write(text: string): Promise<void> {
    const temp = `${this.path}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      const handle = await open(temp, "wx", 0o600);
      try {
        await handle.writeFile(text, "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
  }

  private async read(): Promise<void> {
    let text: string;
    try {
      const handle = await open(this.path, "r");
      try {
        const { size } = await handle.stat();
        if (size > MAX_STATE_BYTES) throw new StoreError(`${this.path}: larger than ${MAX_STATE_BYTES} bytes`);
        text = await readFile(handle, "utf8");
      } finally {
        await handle.close();
      }
    } catch (error) {
      if (error instanceof StoreError) throw error;
      if (errorCode(error) === "ENOENT") return;
      throw new StoreError(`${this.path}: cannot read it (${errorMessage(error)})`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new StoreError(`${this.path}: not JSON; move it away to start with an empty state`);
    }
    const file = parsed as Partial<StateFile> | null;
    if (file === null || typeof file !== "object" || file.v !== 1 || typeof file.networks !== "object") {
      throw new StoreError(`${this.path}: not a state file of this server (version 1); move it away`);
    }
    let skipped = 0;
    for (const [name, network] of Object.entries(file.networks ?? {})) {
      const record = this.record(name);
      if (typeof network.revocationList === "string") record.revocationList = network.revocationList;
      for (const raw of Array.isArray(network.leases) ? network.leases : []) {
        const lease = decodeLease(JSON.stringify(raw));
        if (lease === undefined) skipped++;
        else record.leases.set(lease.address, lease);
      }
    }
    if (skipped > 0) this.log.warn({ path: this.path, skipped }, "state file: damaged leases skipped");
  }
}
