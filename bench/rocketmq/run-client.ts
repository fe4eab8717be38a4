/**
 * One benchmark client in a child process: RocketMQ's Java client (the kit's java-client.sh) or
 * `mqwire bench`. Both print one JSON object as their last stdout line. The child runs under a
 * shell that prints `times` when it ends, so the client's whole CPU time (start-up, JIT or
 * compilation, warm-up and the measured phase) is known without sampling /proc.
 */
import { type ChildProcess, spawn } from "node:child_process";

/** Characters of stderr kept for a failure message. */
const STDERR_TAIL_CHARS = 2000;

/** What a client printed, with the CPU seconds its process tree used. */
export interface ClientRun {
  readonly result: Record<string, unknown>;
  /** User + system CPU of the client's processes, in seconds. */
  readonly cpuSeconds: number;
}

/** The child running now, so that a signal handler can end it before the cluster stops. */
let current: ChildProcess | undefined;

/** Ends the client running now, if any (by its pid: the shell started for it). */
export function killCurrentClient(): void {
  current?.kill("SIGKILL");
}

/** `times`' second line: the children's user and system time, `0m1.234s 0m0.056s`. */
function childrenCpuSeconds(stderr: string): number {
  const lines = stderr.trim().split("\n");
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(lines.at(-1)?.trim() ?? "");
  if (m === null) return Number.NaN;
  return Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
}

/** Runs `command ...args`; resolves with its last JSON line, rejects on failure or after `timeoutMs`. */
export function runClient(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<ClientRun> {
  const script = '"$@"; rc=$?; times >&2; exit $rc';
  const child = spawn("bash", ["-c", script, "bash", command, ...args], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  current = child;
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr = (stderr + d).slice(-STDERR_TAIL_CHARS);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      current = undefined;
      const last = stdout.trim().split("\n").at(-1) ?? "";
      const what = `${command.split("/").at(-1)} ${args.join(" ")}`;
      if (code !== 0 || !last.startsWith("{")) {
        reject(new Error(`${what}: exit ${code ?? signal}\n${stdout.slice(-500)}\n${stderr}`));
        return;
      }
      resolve({
        result: JSON.parse(last) as Record<string, unknown>,
        cpuSeconds: childrenCpuSeconds(stderr),
      });
    });
  });
}
