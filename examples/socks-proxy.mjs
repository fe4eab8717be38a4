// Calls through a SOCKS5 proxy chosen by the target's address (RocketMQ's socksProxyConfig): an
// echo server on loopback, a client whose map sends 127.0.0.0/8 through the proxy, one whose map
// matches nothing (so it goes direct), and, with credentials, one with a wrong password. The server
// answers with the address it saw, so each line shows which way the call went. Needs a SOCKS5
// proxy, e.g. MicroSocks from Debian (apt-get install microsocks):
//   microsocks -i 127.0.0.1 -p 1080 -u mq -P s3cret &
//   SOCKS_PROXY=127.0.0.1:1080 SOCKS_USER=mq SOCKS_PASSWORD=s3cret node examples/socks-proxy.mjs
// (or the proxy as the first argument; without SOCKS_USER the proxy must need no password).
import { RemotingClient, RemotingCommand, RemotingServer, ResponseCode } from "mqwire";

const proxy = process.argv[2] ?? process.env.SOCKS_PROXY;
if (!proxy) {
  console.error("give the SOCKS5 proxy as host:port: SOCKS_PROXY=127.0.0.1:1080 or the first argument");
  process.exit(2);
}
const credentials = process.env.SOCKS_USER
  ? { username: process.env.SOCKS_USER, password: process.env.SOCKS_PASSWORD ?? "" }
  : {};

const ECHO = 100;
const server = new RemotingServer({ listen: ["127.0.0.1:0"] });
// The reply's remark is the caller's address as the server sees it: the proxy's side of its own
// connection when the call came through the proxy.
server.registerProcessor(ECHO, (request, channel) =>
  RemotingCommand.createResponse(ResponseCode.SUCCESS, channel.remoteAddress, { body: request.body }),
);
await server.start();
const addr = server.addresses[0];
console.log(`echo server on ${addr}, SOCKS5 proxy ${proxy}`);

/** One echo with a client whose proxy map is `socksProxy`; prints the way it went. */
async function echo(label, socksProxy) {
  const client = new RemotingClient({ scanNameServers: false, socksProxy });
  let ownEnd = "";
  client.on("active", (_addr, channel) => {
    ownEnd = channel.localAddress;
  });
  try {
    const body = Buffer.from(`hello, ${label}`);
    const reply = await client.invoke(addr, client.createRequest(ECHO, { body }), { timeoutMs: 3000 });
    const way =
      reply.remark === ownEnd ? "the client's own end (direct)" : `not the client's end ${ownEnd} (proxied)`;
    console.log(`${label}: reply "${reply.body}", the server saw ${reply.remark}, ${way}`);
  } catch (err) {
    const cause = err.cause instanceof Error ? ` (${err.cause.message})` : "";
    console.log(`${label}: ${err.code}${cause}`);
  } finally {
    await client.shutdown();
  }
}

// Keys are IPv4 CIDRs, tried in order; the first that holds the target's address wins. Host names
// match only "0.0.0.0/0". 10.0.0.0/8 never holds 127.0.0.1: it only shows that order.
await echo("through the proxy", {
  "10.0.0.0/8": { addr: "192.0.2.1:1080" },
  "127.0.0.0/8": { addr: proxy, ...credentials },
});
// A target no key holds goes direct.
await echo("unmatched target", { "10.0.0.0/8": { addr: proxy, ...credentials } });
if (credentials.username !== undefined) {
  await echo("wrong password", { "127.0.0.0/8": { addr: proxy, ...credentials, password: "wrong" } });
}

await server.shutdown({ graceMs: 1000 });
console.log("socks-proxy: done");
