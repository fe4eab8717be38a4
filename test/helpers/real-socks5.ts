/**
 * Real SOCKS5 servers from Debian for the edge tests, run in the foreground on 127.0.0.1 with a
 * free port and stopped by the PID the test started: Dante (`dante-server`, /usr/sbin/danted)
 * with a generated config, no authentication; and MicroSocks (`microsocks`) for user/password
 * (RFC 1929), which takes them on its command line. Dante's `socksmethod: username` checks
 * system accounts (getpwnam and /etc/shadow), which would mean adding a user to the machine;
 * MicroSocks needs nothing outside its process, so no test leaves a change behind.
 *
 * Each server binds its outgoing connections to an address of its own in 127.0.0.0/8, so a test
 * server sees, in a connection's remote address, which route the connection took.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const DANTED = "/usr/sbin/danted";
export const MICROSOCKS = "/usr/bin/microsocks";
/** Where Dante's and MicroSocks' connections to targets come from. */
export const DANTE_EXTERNAL = "127.0.0.4";
export const MICROSOCKS_EXTERNAL = "127.0.0.5";
const READY_MS = 10_000;
const STOP_MS = 3000;

/** A running proxy. */
export interface RealSocksServer {
  /** "127.0.0.1:port". */
  readonly address: string;
  readonly pid: number;
  /** What the server logged so far (both log targets: connections it made and refused). */
  log(): string;
  /** SIGTERM to the PID, SIGKILL (to its process group) after 3 s; removes its files. */
  close(): Promise<void>;
}

/** Why a server cannot run here (its binary is missing), or undefined. */
export function missing(binary: string, debianPackage: string): string | undefined {
  try {
    accessSync(binary, constants.X_OK);
    return undefined;
  } catch {
    return `${binary} not found: apt-get install ${debianPackage}`;
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Starts a server on a free port; a port taken between the probe and the spawn gets a retry. */
async function onFreePort(
  prefix: string,
  argvFor: (port: number, dir: string) => string[],
): Promise<RealSocksServer> {
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    const port = await freePort();
    try {
      return await run(argvFor(port, dir), port, dir);
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}

/** Spawns `argv` and waits until `port` accepts; rejects with its output if it exits first. */
async function run(argv: string[], port: number, dir: string): Promise<RealSocksServer> {
  // Its own process group, so a SIGKILL can reach Dante's children too.
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const append = (chunk: Buffer): void => {
    output += chunk.toString();
  };
  child.stdout!.on("data", append);
  child.stderr!.on("data", append);
  let exited = false;
  // 'error' (e.g. ENOENT) rejects the wait for 'exit'; either way the process is done.
  const exit = once(child, "exit").then(
    () => {
      exited = true;
    },
    (err: unknown) => {
      output += String(err);
      exited = true;
    },
  );
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  const until = Date.now() + READY_MS;
  while (!(await accepts(port))) {
    if (exited || child.pid === undefined || Date.now() > until) {
      if (!exited && child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      cleanup();
      throw new Error(`${argv[0]} did not start on port ${port}: ${output || "(no output)"}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = child.pid!;
  return {
    address: `127.0.0.1:${port}`,
    pid,
    log: () => output,
    async close() {
      if (!exited) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => process.kill(-pid, "SIGKILL"), STOP_MS);
        await exit;
        clearTimeout(timer);
      }
      try {
        process.kill(-pid, "SIGKILL"); // any child the PID left behind
      } catch {
        // the group is gone: nothing left
      }
      cleanup();
    },
  };
}

/**
 * Dante with no authentication: CONNECT from and to 127.0.0.0/8 only (anything else is refused
 * and logged), connections logged, outgoing from {@link DANTE_EXTERNAL}.
 */
export function startDante(): Promise<RealSocksServer> {
  return onFreePort("mqwire-dante-", (port, dir) => {
    const config = join(dir, "danted.conf");
    writeFileSync(
      config,
      [
        "logoutput: stderr",
        `internal: 127.0.0.1 port = ${port}`,
        `external: ${DANTE_EXTERNAL}`,
        "clientmethod: none",
        "socksmethod: none",
        "client pass {\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n  log: error\n}",
        "socks pass {\n  from: 127.0.0.0/8 to: 127.0.0.0/8\n  command: connect\n  log: connect error\n}",
        "socks block {\n  from: 0.0.0.0/0 to: 0.0.0.0/0\n  log: connect error\n}",
        "",
      ].join("\n"),
    );
    // -N 1: one mother process; -p: a PID file of its own (the default is /var/run/danted.pid).
    return [DANTED, "-f", config, "-p", join(dir, "danted.pid"), "-N", "1"];
  });
}

/** MicroSocks requiring `username`/`password`, outgoing from {@link MICROSOCKS_EXTERNAL}. */
export function startMicrosocks(username: string, password: string): Promise<RealSocksServer> {
  return onFreePort("mqwire-microsocks-", (port) => [
    MICROSOCKS,
    ...["-i", "127.0.0.1", "-p", String(port), "-b", MICROSOCKS_EXTERNAL],
    ...["-u", username, "-P", password],
  ]);
}

/** Dante's log names an endpoint "a.b.c.d.port"; MicroSocks' "host:port". */
export function danteEndpoint(addr: string): string {
  const i = addr.lastIndexOf(":");
  return `${addr.slice(0, i)}.${addr.slice(i + 1)}`;
}
