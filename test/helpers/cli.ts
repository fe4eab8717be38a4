/** Runs `node packages/cli/bin/mqwire.js ...` as a user would, in a child process, with a deadline. */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./vectors.js";

export const BIN = join(repoRoot(), "packages", "cli", "bin", "mqwire.js");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs mqwire with `args`, `stdin` as its input; rejects if it has not exited within `timeoutMs`. */
export function mqwire(args: string[], stdin = "", timeoutMs = 20_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`mqwire ${args.join(" ")} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}
