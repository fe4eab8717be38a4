// Throw-away certificates for the TLS example, made in memory with node:crypto: a CA, a server
// certificate for localhost/127.0.0.1 and a client certificate, each on a fresh P-256 key, valid
// for one day. Nothing is written to disk. Node can sign but not build X.509 certificates, so the
// few DER structures needed (RFC 5280 §4.1) are assembled here.
import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate } from "node:crypto";

const OID = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
  subjectKeyIdentifier: "2.5.29.14",
  authorityKeyIdentifier: "2.5.29.35",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
};

function tlv(tag, ...parts) {
  const body = Buffer.concat(parts);
  const n = body.length;
  const len =
    n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
const seq = (...parts) => tlv(0x30, ...parts);
const int = (bytes) => tlv(0x02, bytes);
const bool = (v) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const octets = (bytes) => tlv(0x04, bytes);
const bits = (bytes, unused = 0) => tlv(0x03, Buffer.from([unused]), bytes);
const utcTime = (date) => tlv(0x17, Buffer.from(`${date.toISOString().slice(2, 19).replace(/[-:T]/g, "")}Z`));

function oid(text) {
  const [a, b, ...rest] = text.split(".").map(Number);
  const out = [40 * a + b];
  for (const value of rest) {
    const base128 = [value & 0x7f];
    for (let v = value >> 7; v > 0; v >>= 7) base128.unshift((v & 0x7f) | 0x80);
    out.push(...base128);
  }
  return tlv(0x06, Buffer.from(out));
}

const name = (cn) => seq(tlv(0x31, seq(oid(OID.commonName), tlv(0x0c, Buffer.from(cn)))));
const extension = (id, critical, value) => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

// Key identifiers as RFC 7093 §2 method 1 allows: the leftmost 160 bits of the SHA-256 of the
// whole SubjectPublicKeyInfo. Strict verifiers (openssl verify -x509_strict) want both.
const keyId = (publicKey) =>
  createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest()
    .subarray(0, 20);

function certificate({ subject, issuer, publicKey, issuerKey, signingKey, extensions }) {
  const now = Date.now();
  const serial = randomBytes(8);
  serial[0] &= 0x7f; // positive
  serial[0] |= 0x01; // and no leading zero byte
  const algorithm = seq(oid(OID.ecdsaWithSha256));
  const tbs = seq(
    tlv(0xa0, int(Buffer.from([2]))), // v3
    int(serial),
    algorithm,
    name(issuer),
    seq(utcTime(new Date(now - 3_600_000)), utcTime(new Date(now + 86_400_000))),
    name(subject),
    publicKey.export({ type: "spki", format: "der" }),
    tlv(
      0xa3,
      seq(
        ...extensions,
        extension(OID.subjectKeyIdentifier, false, octets(keyId(publicKey))),
        extension(OID.authorityKeyIdentifier, false, seq(tlv(0x80, keyId(issuerKey)))),
      ),
    ),
  );
  const signature = sign("sha256", tbs, { key: signingKey, dsaEncoding: "der" });
  const der = seq(tbs, algorithm, bits(signature));
  const base64 = der.toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN CERTIFICATE-----\n${base64.trimEnd()}\n-----END CERTIFICATE-----\n`;
}

const keyPair = () => generateKeyPairSync("ec", { namedCurve: "P-256" });
const pem = (privateKey) => privateKey.export({ type: "pkcs8", format: "pem" });

/** A CA and two certificates it signed: `{ ca, server: { key, cert }, client: { key, cert } }`, PEM. */
export function makeCertificates() {
  const ca = keyPair();
  const caCert = certificate({
    subject: "mqwire example CA",
    issuer: "mqwire example CA",
    publicKey: ca.publicKey,
    issuerKey: ca.publicKey,
    signingKey: ca.privateKey,
    extensions: [
      extension(OID.basicConstraints, true, seq(bool(true))),
      extension(OID.keyUsage, true, bits(Buffer.from([0x06]), 1)), // keyCertSign, cRLSign
    ],
  });
  const leaf = (subject, usage, more = []) => {
    const { publicKey, privateKey } = keyPair();
    const cert = certificate({
      subject,
      issuer: "mqwire example CA",
      publicKey,
      issuerKey: ca.publicKey,
      signingKey: ca.privateKey,
      extensions: [
        extension(OID.basicConstraints, true, seq()),
        extension(OID.keyUsage, true, bits(Buffer.from([0x80]), 7)), // digitalSignature
        extension(OID.extKeyUsage, false, seq(oid(usage))),
        ...more,
      ],
    });
    return { key: pem(privateKey), cert };
  };
  const san = seq(tlv(0x82, Buffer.from("localhost")), tlv(0x87, Buffer.from([127, 0, 0, 1])));
  const server = leaf("localhost", OID.serverAuth, [extension(OID.subjectAltName, false, san)]);
  const client = leaf("mqwire example client", OID.clientAuth);
  // Check what was built before handing it out: a bad encoding fails here, not in a handshake.
  for (const { cert } of [server, client]) {
    if (!new X509Certificate(cert).verify(ca.publicKey)) throw new Error("ephemeral-certs: bad signature");
  }
  return { ca: caCert, server, client };
}
