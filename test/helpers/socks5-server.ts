/**
 * A minimal SOCKS5 proxy for tests (RFC 1928, user/password auth RFC 1929): CONNECT only, on
 * 127.0.0.1 port 0. It counts connections, records each requested target, and connects only to
 * loopback (127.0.0.0/8 or "localhost", resolved as IPv4), so a test can never send traffic elsewhere.
 */
import net from "node:net";

/** Options of {@link startSocks5Server}. */
export interface Socks5ServerOptions {
  /** When both are set, clients must authenticate with them (method 0x02); else no auth (0x00). */
  username?: string;
  password?: string;
}

/** A running test proxy. */
export interface Socks5TestServer {
  /** "127.0.0.1:port". */
  readonly address: string;
  readonly port: number;
  /** TCP connections accepted. */
  readonly connections: number;
  /** Requested targets, "host:port" as the client sent them, in order. */
  readonly targets: readonly string[];
  /** Failed user/password authentications. */
  readonly authFailures: number;
  /** Closes the listener and every open connection. */
  close(): Promise<void>;
}

const VERSION = 0x05;
const NO_AUTH = 0x00;
const USER_PASS = 0x02;
const NO_METHOD = 0xff;
const CMD_CONNECT = 0x01;
const REP_OK = 0x00;
const REP_FAILURE = 0x01;
const REP_NOT_ALLOWED = 0x02;
const REP_REFUSED = 0x05;
const REP_CMD_UNSUPPORTED = 0x07;
const REP_ATYP_UNSUPPORTED = 0x08;

function reply(code: number): Buffer {
  // VER REP RSV ATYP=IPv4 BND.ADDR=0.0.0.0 BND.PORT=0
  return Buffer.from([VERSION, code, 0, 1, 0, 0, 0, 0, 0, 0]);
}

function isLoopback(host: string): boolean {
  return host === "localhost" || (net.isIPv4(host) && host.startsWith("127."));
}

/** Starts the proxy. */
export async function startSocks5Server(options: Socks5ServerOptions = {}): Promise<Socks5TestServer> {
  const auth = options.username !== undefined && options.password !== undefined;
  const sockets = new Set<net.Socket>();
  const targets: string[] = [];
  let connections = 0;
  let authFailures = 0;

  const server = net.createServer((client) => {
    connections++;
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => client.destroy());
    let buf = Buffer.alloc(0);
    let stage: "greeting" | "auth" | "request" | "done" = "greeting";

    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (stage === "greeting") {
          if (buf.length < 2 || buf.length < 2 + buf[1]!) return;
          const methods = buf.subarray(2, 2 + buf[1]!);
          buf = buf.subarray(2 + buf[1]!);
          const want = auth ? USER_PASS : NO_AUTH;
          if (!methods.includes(want)) {
            client.end(Buffer.from([VERSION, NO_METHOD]));
            stage = "done";
            return;
          }
          client.write(Buffer.from([VERSION, want]));
          stage = auth ? "auth" : "request";
        } else if (stage === "auth") {
          if (buf.length < 2) return;
          const ulen = buf[1]!;
          if (buf.length < 3 + ulen) return;
          const plen = buf[2 + ulen]!;
          if (buf.length < 3 + ulen + plen) return;
          const user = buf.subarray(2, 2 + ulen).toString();
          const pass = buf.subarray(3 + ulen, 3 + ulen + plen).toString();
          buf = buf.subarray(3 + ulen + plen);
          if (user !== options.username || pass !== options.password) {
            authFailures++;
            client.end(Buffer.from([0x01, 0x01]));
            stage = "done";
            return;
          }
          client.write(Buffer.from([0x01, 0x00]));
          stage = "request";
        } else if (stage === "request") {
          if (buf.length < 5) return;
          const atyp = buf[3]!;
          let host: string;
          let end: number;
          if (atyp === 0x01) {
            end = 4 + 4;
            if (buf.length < end + 2) return;
            host = [...buf.subarray(4, 8)].join(".");
          } else if (atyp === 0x03) {
            end = 5 + buf[4]!;
            if (buf.length < end + 2) return;
            host = buf.subarray(5, end).toString();
          } else {
            client.end(reply(REP_ATYP_UNSUPPORTED));
            stage = "done";
            return;
          }
          const port = buf.readUInt16BE(end);
          const rest = buf.subarray(end + 2);
          stage = "done";
          client.off("data", onData);
          if (buf[1] !== CMD_CONNECT) {
            client.end(reply(REP_CMD_UNSUPPORTED));
            return;
          }
          targets.push(`${host}:${port}`);
          if (!isLoopback(host)) {
            client.end(reply(REP_NOT_ALLOWED));
            return;
          }
          connectUpstream(client, host, port, rest);
          return;
        } else {
          return;
        }
      }
    };
    client.on("data", onData);
  });

  function connectUpstream(client: net.Socket, host: string, port: number, rest: Buffer): void {
    client.pause();
    const upstream = net.connect({ host, port, family: 4 });
    sockets.add(upstream);
    let connected = false;
    upstream.on("close", () => {
      sockets.delete(upstream);
      if (connected) client.destroy();
    });
    client.on("close", () => upstream.destroy());
    upstream.on("error", (err: NodeJS.ErrnoException) => {
      if (!connected) client.end(reply(err.code === "ECONNREFUSED" ? REP_REFUSED : REP_FAILURE));
    });
    upstream.once("connect", () => {
      connected = true;
      upstream.setNoDelay(true);
      client.write(reply(REP_OK));
      if (rest.length > 0) upstream.write(rest);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    port,
    get connections() {
      return connections;
    },
    targets,
    get authFailures() {
      return authFailures;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
