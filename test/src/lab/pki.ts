/**
 * A network's certificates for a lab, made with the real `ipop cert` CLI in a private temp dir
 * (0700; the CA key never leaves it): `ca.crt`/`ca.key`, then `NAME.crt`/`NAME.key` per node.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { LabError } from "../errors.js";
import { AGENT_CLI, requireBuilt } from "./paths.js";

const run = promisify(execFile);

/** Paths `ipop up --ca --cert --key` takes. */
export interface CredentialFiles {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export class LabPki {
  private readonly issued = new Map<string, CredentialFiles>();

  private constructor(
    /** The directory holding every file; removed by {@link remove}. */
    readonly dir: string,
    readonly network: string,
  ) {}

  /** Makes a CA for `network` in a new temp dir. `prefix` names the dir, for people looking at /tmp. */
  static async create(network: string, prefix = "ipop-lab-pki-"): Promise<LabPki> {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    const pki = new LabPki(dir, network);
    try {
      await pki.cert(["ca", "--network", network]);
    } catch (error) {
      pki.remove();
      throw error;
    }
    return pki;
  }

  get caPath(): string {
    return join(this.dir, "ca.crt");
  }

  get caKeyPath(): string {
    return join(this.dir, "ca.key");
  }

  /** Signs (once) a certificate for `name` at `cidr` (`A.B.C.D/N`) and returns its files. */
  async credentials(name: string, cidr: string): Promise<CredentialFiles> {
    const known = this.issued.get(name);
    if (known !== undefined) return known;
    await this.cert(["sign", "--name", name, "--ip", cidr]);
    const files = { ca: this.caPath, cert: join(this.dir, `${name}.crt`), key: join(this.dir, `${name}.key`) };
    this.issued.set(name, files);
    return files;
  }

  /** Runs `ipop cert ARGS` in the PKI's directory. */
  cert(args: readonly string[]): Promise<string> {
    return this.ipop(["cert", ...args]);
  }

  /** Runs `ipop ARGS` in the PKI's directory; resolves to its stdout. */
  async ipop(args: readonly string[]): Promise<string> {
    try {
      const { stdout } = await run(process.execPath, [requireBuilt(AGENT_CLI), ...args], {
        cwd: this.dir,
        timeout: 30_000,
      });
      return stdout;
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new LabError("LAB_COMMAND_FAILED", `ipop ${args.join(" ")}: ${(e.stderr || e.message).trim()}`);
    }
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
