/**
 * `mqwire serve --port 0 ...` in a child process for the CLI tests, with NODE_DEBUG=mqwire so that
 * its refusals and reloads reach stderr; stopped (SIGTERM) after the test that started it.
 */
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { once } from "node:events";
import type { TestContext } from "node:test";
import { BIN } from "./cli.js";

/** A running `mqwire serve`. */
export interface Served {
  child: ChildProcessWithoutNullStreams;
  /** The address it printed: "127.0.0.1:<port>". */
  addr: string;
  /** What it wrote to stderr so far. */
  stderr(): string;
}

export async function serve(t: TestContext, extra: string[]): Promise<Served> {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", ...extra], {
    env: { ...process.env, NODE_DEBUG: "mqwire" },
  });
  t.after(async () => {
    if (child.exitCode !== null) return;
    child.kill("SIGTERM");
    await once(child, "exit");
  });
  let out = "";
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  child.stdout.setEncoding("utf8");
  const addr = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed no address: ${out}${err}`)), 10_000);
    child.stdout.on("data", (d: string) => {
      out += d;
      const m = /listening on (\S+:\d+)/.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on("exit", () => reject(new Error(`serve exited early: ${out}${err}`)));
  });
  return { child, addr, stderr: () => err };
}

/** Resolves once `pattern` is in the server's stderr; fails after `ms` with what it wrote. */
export async function logged(s: Served, pattern: RegExp, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!pattern.test(s.stderr())) {
    if (Date.now() > until) assert.fail(`${pattern} not logged; server stderr:\n${s.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A refusal logged by `s`: its bound address, the refused client on loopback, then `reason`. */
export function refusalBy(s: Served, reason: string): RegExp {
  return new RegExp(`${s.addr.replaceAll(".", "\\.")}: refused 127\\.0\\.0\\.1:\\d+: ${reason}`);
}
