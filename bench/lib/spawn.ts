/**
 * Child processes of the orchestrator: node scripts started with an optional `taskset -c` CPU
 * pinning, their stdout kept whole (results are its last line) and the tail of stderr kept for
 * failure messages. taskset execs node in place, so the child's pid is node's own and
 * /proc/<pid>/stat measures the right process.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { LISTENING_LINE, parseServerReport, type ServerReport } from "./protocol.js";

/** Characters of stderr kept for a failure message. */
const STDERR_TAIL_CHARS = 2000;
/** How long a server may take to print its listening line, ms. */
export const DEFAULT_LISTEN_TIMEOUT_MS = 20_000;
/** How long a stopping server may take to report and exit before it is killed, ms. */
export const DEFAULT_STOP_TIMEOUT_MS = 5_000;

/** A started node process. */
export class NodeProcess {
  readonly child: ChildProcess;
  /** Everything the process printed on stdout so far. */
  stdout = "";
  private stderrTail = "";
  /** Resolves with the exit code (null when killed by a signal) once the process has exited. */
  readonly exited: Promise<number | null>;
  private onStdout: (() => void) | undefined;

  /** Starts `node ...args` in `cwd`, pinned to `cpus` (a taskset list, e.g. "0" or "0,1"). */
  constructor(args: readonly string[], cwd: string, cpus?: string) {
    const command = cpus === undefined ? process.execPath : "taskset";
    const argv = cpus === undefined ? [...args] : ["-c", cpus, process.execPath, ...args];
    this.child = spawn(command, argv, { cwd, stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout!.setEncoding("utf8");
    this.child.stderr!.setEncoding("utf8");
    this.child.stdout!.on("data", (text: string) => {
      this.stdout += text;
      this.onStdout?.();
    });
    this.child.stderr!.on("data", (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL_CHARS);
    });
    // A child that dies first must not crash the orchestrator with EPIPE on its stdin.
    this.child.stdin!.on("error", () => {});
    this.exited = new Promise((resolve) => {
      this.child.once("error", () => resolve(-1));
      this.child.once("close", (code) => resolve(code));
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** The last lines of stderr, for a failure message. */
  get stderr(): string {
    return this.stderrTail.trim();
  }

  /** Resolves with the first match of `pattern` in stdout; rejects on exit or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`no ${pattern} within ${timeoutMs} ms`)), timeoutMs);
      let settled = false;
      const done = (err?: Error, match?: RegExpExecArray): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.onStdout = undefined;
        if (match !== undefined) resolve(match);
        else reject(err);
      };
      this.onStdout = () => {
        const match = pattern.exec(this.stdout);
        if (match !== null) done(undefined, match);
      };
      this.onStdout();
      void this.exited.then((code) =>
        done(new Error(`exited with ${code} before ${pattern}: ${this.stderr}`)),
      );
    });
  }

  /** Waits for the exit; kills the process and rejects if it takes more than `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const outcome = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      this.child.kill("SIGKILL");
      throw new Error(`did not exit within ${timeoutMs} ms`);
    }
    return outcome;
  }

  /** SIGTERM, then SIGKILL if the process has not exited within `timeoutMs`. */
  async stop(timeoutMs: number = DEFAULT_STOP_TIMEOUT_MS): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    await this.waitForExit(timeoutMs).catch(() => undefined);
  }
}

/** A server process that has printed its listening line. */
export interface RunningServer {
  readonly process: NodeProcess;
  readonly host: string;
  readonly port: number;
  /** `HOST:PORT`, the first argument of every load client. */
  readonly target: string;
  /** Stops the server and returns its stop report, if it printed one. */
  stop(): Promise<ServerReport | undefined>;
}

/** Starts a server (`node ...args`) and waits for its `listening on HOST:PORT` line. */
export async function startServer(
  args: readonly string[],
  cwd: string,
  cpus?: string,
  timeoutMs: number = DEFAULT_LISTEN_TIMEOUT_MS,
): Promise<RunningServer> {
  const server = new NodeProcess(args, cwd, cpus);
  let match: RegExpExecArray;
  try {
    match = await server.waitFor(LISTENING_LINE, timeoutMs);
  } catch (err) {
    await server.stop();
    throw err;
  }
  // A wildcard bind address cannot be connected to: clients use the loopback address instead.
  const host = match[1] === "0.0.0.0" || match[1] === "::" ? "127.0.0.1" : match[1]!;
  const port = Number(match[2]);
  return {
    process: server,
    host,
    port,
    target: `${host}:${port}`,
    stop: async () => {
      await server.stop();
      return parseServerReport(server.stdout);
    },
  };
}
