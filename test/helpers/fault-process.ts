/**
 * A fault-test server in a child process (test/fixtures/fault-server.ts) that a test can kill,
 * pause and resume, and helpers that measure how calls end. Every child is resumed (SIGCONT)
 * and killed in the test's `t.after`, whatever the test did to it, so a failing assertion
 * cannot leave a stopped process behind.
 */
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("../fixtures/fault-server.js", import.meta.url));
/** Longest wait for a child to start listening, in ms (a loaded machine starts node slowly). */
const START_MS = 15_000;

/** A running fault server. */
export interface FaultServer {
  readonly child: ChildProcess;
  /** "127.0.0.1:PORT". */
  readonly addr: string;
  readonly port: number;
  /** SIGKILL; resolves once the process is gone (its sockets are closed by the kernel). */
  kill(): Promise<void>;
  /** SIGSTOP: the process neither reads, writes nor closes; the kernel still accepts connections. */
  stop(): void;
  /** SIGCONT. */
  resume(): void;
}

/** Starts a fault server on `port` (0: any) with a listen `backlog`; cleaned up after the test. */
export async function startFaultServer(t: TestContext, port = 0, backlog = 1024): Promise<FaultServer> {
  const child = spawn(process.execPath, [SCRIPT, String(port), String(backlog)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGCONT");
    child.kill("SIGKILL");
    await exited;
  });
  const addr = await new Promise<string>((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => reject(new Error("fault server did not start in time")), START_MS);
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      text += chunk;
      const nl = text.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      resolve((JSON.parse(text.slice(0, nl)) as { addr: string }).addr);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`fault server exited before listening (${code ?? signal})`));
    });
  });
  return {
    child,
    addr,
    port: Number(addr.slice(addr.lastIndexOf(":") + 1)),
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
    stop() {
      child.kill("SIGSTOP");
    },
    resume() {
      child.kill("SIGCONT");
    },
  };
}

/**
 * Fills the accept queue of a stopped server listening with a tiny backlog, so the next SYN is
 * dropped and a connect hangs (a peer that does not answer at all). Returns the sockets that
 * got in; they are destroyed after the test.
 */
export async function fillBacklog(t: TestContext, port: number, max = 64): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  t.after(() => {
    for (const s of sockets) s.destroy();
  });
  for (let i = 0; i < max; i++) {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.on("error", () => undefined);
    sockets.push(socket);
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 300);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!connected) return sockets;
  }
  throw new Error(`the accept queue of port ${port} did not fill after ${max} connections`);
}

/** `ms` rounded to 0.1 ms, for figures. */
export function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}
