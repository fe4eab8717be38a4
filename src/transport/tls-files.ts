/**
 * Key and certificate files, and their reload without a restart: RocketMQ's FileWatchService
 * (srv/…/remoting/netty/FileWatchService.java) polls `tls.server.keyPath`, `certPath` and
 * `trustCertPath` every 500 ms, compares their digests, and rebuilds the server's SSL context
 * (`loadSslContext()`, reference §10.4). A stat poll rather than fs.watch: fs.watch misses the
 * rename that certbot, cert-manager and `kubectl` secret updates use (the watched inode is replaced),
 * and behaves differently on every platform.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { InvalidArgumentError } from "../errors.js";

/** RocketMQ's FileWatchService interval, 500 ms. */
export const DEFAULT_TLS_RELOAD_INTERVAL_MS = 500;

/** Paths of PEM files (RocketMQ's `tls.server.keyPath`, `certPath`, `trustCertPath`). */
export interface TlsFilePaths {
  /** Private key, PEM. */
  readonly keyFile?: string;
  /** Certificate chain, PEM. */
  readonly certFile?: string;
  /** Trusted CA certificates, PEM. */
  readonly caFile?: string;
}

/** The contents of {@link TlsFilePaths}, under the names of tls.SecureContextOptions. */
export interface TlsFileContents {
  key?: Buffer;
  cert?: Buffer;
  ca?: Buffer;
}

const FIELDS = [
  ["keyFile", "key"],
  ["certFile", "cert"],
  ["caFile", "ca"],
] as const;

/** @internal True when any path is set. */
export function hasTlsFiles(paths: TlsFilePaths): boolean {
  return FIELDS.some(([p]) => paths[p] !== undefined);
}

/** Reads the files once, synchronously (at construction); a missing file is an InvalidArgumentError naming it. */
export function readTlsFiles(paths: TlsFilePaths): TlsFileContents {
  const out: TlsFileContents = {};
  for (const [p, field] of FIELDS) {
    const path = paths[p];
    if (path === undefined) continue;
    if (typeof path !== "string" || path.length === 0) {
      throw new InvalidArgumentError(`${p} must be a non-empty path, got ${String(path)}`);
    }
    try {
      out[field] = readFileSync(path);
    } catch (err) {
      throw new InvalidArgumentError(`${p}: cannot read ${path}`, { cause: err });
    }
  }
  return out;
}

/**
 * Polls files with `stat` every `intervalMs` (an unref'd timer: it never keeps the process alive)
 * and calls `onChange` with their contents when a stat changed and the contents' digest differs
 * from the last one seen. A half-written set (a key that does not match its certificate yet) is
 * the caller's to refuse: the next change of either file calls again. Read errors go to `onError`.
 */
export class TlsFileWatcher {
  readonly #paths: TlsFilePaths;
  readonly #intervalMs: number;
  readonly #onChange: (contents: TlsFileContents) => void;
  readonly #onError: (err: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  #stats = "";
  #digest = "";
  #busy = false;

  constructor(
    paths: TlsFilePaths,
    intervalMs: number,
    onChange: (contents: TlsFileContents) => void,
    onError: (err: unknown) => void,
  ) {
    this.#paths = paths;
    this.#intervalMs = intervalMs;
    this.#onChange = onChange;
    this.#onError = onError;
  }

  /** Starts polling; the files as they are now are the baseline, not a change. */
  start(): void {
    if (this.#timer !== undefined) return;
    try {
      this.#digest = digest(readTlsFiles(this.#paths));
    } catch {
      this.#digest = ""; // unreadable now: the first readable state counts as a change
    }
    this.#timer = setInterval(() => void this.#poll(), this.#intervalMs).unref();
  }

  /** Stops polling (the owner's listener closed). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #poll(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const stats: string[] = [];
      for (const [p] of FIELDS) {
        const path = this.#paths[p];
        if (path === undefined) continue;
        const s = await stat(path);
        stats.push(`${s.ino}:${s.size}:${s.mtimeMs}`);
      }
      const joined = stats.join(";");
      if (joined === this.#stats) return;
      this.#stats = joined;
      const contents: TlsFileContents = {};
      for (const [p, field] of FIELDS) {
        const path = this.#paths[p];
        if (path !== undefined) contents[field] = await readFile(path);
      }
      const d = digest(contents);
      if (d === this.#digest || this.#timer === undefined) return;
      this.#digest = d;
      this.#onChange(contents);
    } catch (err) {
      this.#stats = ""; // a file being replaced: look again next time
      this.#onError(err);
    } finally {
      this.#busy = false;
    }
  }
}

function digest(contents: TlsFileContents): string {
  const h = createHash("sha256");
  for (const [, field] of FIELDS) h.update(contents[field] ?? "").update("\0");
  return h.digest("hex");
}
