/**
 * Throw-away certificates made in memory with node:crypto for the TLS tests (the approach of
 * examples/lib/ephemeral-certs.mjs): a CA per call, and leaves it signs with any validity, host
 * names and usage, so that tests make expired, not-yet-valid, wrong-host and wrong-CA ones
 * themselves. Node signs but does not build X.509, so the DER (RFC 5280 §4.1) is assembled here.
 */
import {
  createHash,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  X509Certificate,
} from "node:crypto";

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

function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  const len =
    n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
const seq = (...parts: Buffer[]): Buffer => tlv(0x30, ...parts);
const int = (bytes: Buffer): Buffer => tlv(0x02, bytes);
const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const octets = (bytes: Buffer): Buffer => tlv(0x04, bytes);
const bits = (bytes: Buffer, unused = 0): Buffer => tlv(0x03, Buffer.from([unused]), bytes);
// UTCTime covers 1950-2049 (RFC 5280 §4.1.2.5), enough for tests.
const utcTime = (date: Date): Buffer =>
  tlv(0x17, Buffer.from(`${date.toISOString().slice(2, 19).replace(/[-:T]/g, "")}Z`));

function oid(text: string): Buffer {
  const [a = 0, b = 0, ...rest] = text.split(".").map(Number);
  const out = [40 * a + b];
  for (const value of rest) {
    const base128 = [value & 0x7f];
    for (let v = value >> 7; v > 0; v >>= 7) base128.unshift((v & 0x7f) | 0x80);
    out.push(...base128);
  }
  return tlv(0x06, Buffer.from(out));
}

const name = (cn: string): Buffer => seq(tlv(0x31, seq(oid(OID.commonName), tlv(0x0c, Buffer.from(cn)))));
const extension = (id: string, critical: boolean, value: Buffer): Buffer =>
  seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
const keyId = (publicKey: KeyObject): Buffer =>
  createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest()
    .subarray(0, 20);

interface CertificateSpec {
  subject: string;
  issuer: string;
  publicKey: KeyObject;
  issuerKey: KeyObject;
  signingKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  extensions: Buffer[];
}

function certificate(spec: CertificateSpec): string {
  const serial = randomBytes(8);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01;
  const algorithm = seq(oid(OID.ecdsaWithSha256));
  const tbs = seq(
    tlv(0xa0, int(Buffer.from([2]))),
    int(serial),
    algorithm,
    name(spec.issuer),
    seq(utcTime(spec.notBefore), utcTime(spec.notAfter)),
    name(spec.subject),
    spec.publicKey.export({ type: "spki", format: "der" }),
    tlv(
      0xa3,
      seq(
        ...spec.extensions,
        extension(OID.subjectKeyIdentifier, false, octets(keyId(spec.publicKey))),
        extension(OID.authorityKeyIdentifier, false, seq(tlv(0x80, keyId(spec.issuerKey)))),
      ),
    ),
  );
  const signature = sign("sha256", tbs, { key: spec.signingKey, dsaEncoding: "der" });
  const der = seq(tbs, algorithm, bits(signature));
  const base64 = der.toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN CERTIFICATE-----\n${base64.trimEnd()}\n-----END CERTIFICATE-----\n`;
}

const HOUR_MS = 3_600_000;
const keyPair = () => generateKeyPairSync("ec", { namedCurve: "P-256" });

/** A key and certificate, PEM. */
export interface KeyAndCert {
  key: string;
  cert: string;
  /** The certificate's SHA-256 fingerprint, as X509Certificate#fingerprint256 spells it. */
  fingerprint256: string;
}

/** What {@link TestCa.issue} makes. */
export interface IssueOptions {
  /** CN. Default "localhost" for servers, "mqwire test client" for clients. */
  subject?: string;
  /** Default "server". */
  usage?: "server" | "client";
  /** DNS names in the SAN; servers default to ["localhost"]. */
  hosts?: string[];
  /** IPv4 addresses in the SAN; servers default to ["127.0.0.1"]. */
  ips?: string[];
  /** Default an hour ago. */
  notBefore?: Date;
  /** Default a day from now. */
  notAfter?: Date;
}

/** A CA that signs test certificates. */
export interface TestCa {
  /** The CA certificate, PEM: what a peer trusts. */
  readonly cert: string;
  issue(options?: IssueOptions): KeyAndCert;
}

/** A fresh CA on a fresh P-256 key, valid from an hour ago for a day. */
export function makeCa(subject = "mqwire test CA"): TestCa {
  const ca = keyPair();
  const now = Date.now();
  const cert = certificate({
    subject,
    issuer: subject,
    publicKey: ca.publicKey,
    issuerKey: ca.publicKey,
    signingKey: ca.privateKey,
    notBefore: new Date(now - HOUR_MS),
    notAfter: new Date(now + 24 * HOUR_MS),
    extensions: [
      extension(OID.basicConstraints, true, seq(bool(true))),
      extension(OID.keyUsage, true, bits(Buffer.from([0x06]), 1)),
    ],
  });
  return {
    cert,
    issue(o: IssueOptions = {}): KeyAndCert {
      const usage = o.usage ?? "server";
      const hosts = o.hosts ?? (usage === "server" ? ["localhost"] : []);
      const ips = o.ips ?? (usage === "server" ? ["127.0.0.1"] : []);
      const san = [
        ...hosts.map((h) => tlv(0x82, Buffer.from(h))),
        ...ips.map((ip) => tlv(0x87, Buffer.from(ip.split(".").map(Number)))),
      ];
      const { publicKey, privateKey } = keyPair();
      const leaf = certificate({
        subject: o.subject ?? (usage === "server" ? "localhost" : "mqwire test client"),
        issuer: subject,
        publicKey,
        issuerKey: ca.publicKey,
        signingKey: ca.privateKey,
        notBefore: o.notBefore ?? new Date(Date.now() - HOUR_MS),
        notAfter: o.notAfter ?? new Date(Date.now() + 24 * HOUR_MS),
        extensions: [
          extension(OID.basicConstraints, true, seq()),
          extension(OID.keyUsage, true, bits(Buffer.from([0x80]), 7)),
          extension(OID.extKeyUsage, false, seq(oid(usage === "server" ? OID.serverAuth : OID.clientAuth))),
          ...(san.length > 0 ? [extension(OID.subjectAltName, false, seq(...san))] : []),
        ],
      });
      const x509 = new X509Certificate(leaf);
      if (!x509.verify(ca.publicKey)) throw new Error("ephemeral-certs: bad signature");
      return {
        key: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
        cert: leaf,
        fingerprint256: x509.fingerprint256,
      };
    },
  };
}
