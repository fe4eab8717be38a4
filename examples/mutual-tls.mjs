// TLS with mutual authentication: the server (RocketMQ's tls.server.mode=enforcing with
// tls.server.need.client.auth=require) accepts only TLS clients whose certificate its CA signed;
// the client checks the server's certificate against the same CA. The certificates are made
// in memory for this run (./lib/ephemeral-certs.mjs) and are gone when it ends.
//   npm ci && node examples/mutual-tls.mjs
import { RemotingClient, RemotingCommand, RemotingServer, ResponseCode } from "mqwire";
import { makeCertificates } from "./lib/ephemeral-certs.mjs";

const HELLO = 100;
const { ca, server: serverCert, client: clientCert } = makeCertificates();

const server = new RemotingServer({
  listen: ["127.0.0.1:0"],
  tls: {
    mode: "enforcing", // TLS only; "permissive" would serve plaintext on the same port too
    key: serverCert.key,
    cert: serverCert.cert,
    ca, // trusted for client certificates
    requestCert: true,
    rejectUnauthorized: true,
  },
});
// Only a client that passed the handshake, certificate checked, ever reaches a processor.
server.registerProcessor(HELLO, () =>
  RemotingCommand.createResponse(ResponseCode.SUCCESS, "hello, verified client"),
);
await server.start();
const addr = server.addresses[0];
console.log(`TLS server on ${addr}`);

async function attempt(label, options) {
  const client = new RemotingClient(options);
  try {
    const reply = await client.invoke(addr, client.createRequest(HELLO), { timeoutMs: 3000 });
    console.log(`${label}: ${reply.code} ${reply.remark}`);
  } catch (err) {
    console.log(`${label}: refused (${err.code})`);
  } finally {
    await client.shutdown();
  }
}

// servername "localhost" is what the server certificate names (its SAN also holds 127.0.0.1).
await attempt("client with a certificate", {
  tls: { ca, cert: clientCert.cert, key: clientCert.key, servername: "localhost" },
});
await attempt("client without a certificate", { tls: { ca, servername: "localhost" } });
await attempt("plaintext client", {});
// The client verifies the server too: without the example CA, the server is untrusted.
await attempt("client that does not trust the CA", {
  tls: { cert: clientCert.cert, key: clientCert.key, servername: "localhost" },
});

await server.shutdown({ graceMs: 1000 });
console.log("mutual-tls: done");
