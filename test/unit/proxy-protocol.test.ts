/**
 * The PROXY protocol parser (src/transport/proxy-protocol.ts): the spec's examples
 * (haproxy doc/proxy-protocol.txt), one malformed header per rule, and byte by byte at every chunk
 * boundary with fast-check: whatever the chunking, the decision, the header and the bytes after
 * it are those of the whole buffer.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  ErrorCodes,
  type ProxyHeader,
  ProxyHeaderParser,
  ProxyProtocolError,
  type ProxyProtocolErrorReason,
  parseProxyHeader,
} from "../../src/index.js";
import { crc32c, formatIpv6, PROXY_V2_SIGNATURE } from "../../src/transport/proxy-protocol.js";
import { ipv4Block, ipv6Block, proxyV1, proxyV2, unixBlock } from "../helpers/proxy-header.js";

/** Fixed seed: a failure reproduces as is (fast-check prints the path to shrink from). */
const SEED = 0x5eed_9e37;

function header(bytes: Buffer): { header: ProxyHeader; rest: Buffer } {
  const result = parseProxyHeader(bytes);
  assert.equal(result.kind, "header");
  if (result.kind !== "header") throw new Error("unreachable");
  return result;
}

function refused(bytes: Buffer, reason: ProxyProtocolErrorReason): void {
  assert.throws(
    () => parseProxyHeader(bytes),
    (err: unknown) =>
      err instanceof ProxyProtocolError && err.code === ErrorCodes.NEGOTIATION && err.reason === reason,
    `expected reason ${reason} for ${JSON.stringify(bytes.toString("latin1"))}`,
  );
}

const latin1 = (text: string): Buffer => Buffer.from(text, "latin1");
const v6 = (hex: string): Buffer => Buffer.from(hex.replace(/\s/g, ""), "hex");

describe("PROXY v1 (spec §2.1)", () => {
  test("the spec's TCP4 example before an HTTP request", () => {
    const http = "GET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n";
    const { header: h, rest } = header(latin1(`PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n${http}`));
    assert.equal(h.version, 1);
    assert.equal(h.command, "proxy");
    assert.equal(h.protocol, "tcp4");
    assert.deepEqual(h.source, { host: "192.168.0.1", port: 56324, address: "192.168.0.1:56324" });
    assert.deepEqual(h.destination, { host: "192.168.0.11", port: 443, address: "192.168.0.11:443" });
    assert.deepEqual(h.tlvs, []);
    assert.equal(h.headerBytes, 47);
    assert.equal(rest.toString("latin1"), http);
  });

  test("the spec's longest lines: TCP4 (56), TCP6 (104) and UNKNOWN worst case (107)", () => {
    const f = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    const tcp4 = latin1("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n");
    assert.equal(tcp4.length, 56);
    assert.equal(header(tcp4).header.source?.address, "255.255.255.255:65535");
    const tcp6 = latin1(`PROXY TCP6 ${f} ${f} 65535 65535\r\n`);
    assert.equal(tcp6.length, 104);
    assert.equal(header(tcp6).header.source?.address, `[${f}]:65535`);
    const worst = latin1(`PROXY UNKNOWN ${f} ${f} 65535 65535\r\n`);
    assert.equal(worst.length, 107);
    const h = header(worst).header;
    assert.equal(h.protocol, "unspec");
    assert.equal(h.source, undefined, "UNKNOWN keeps the socket's own addresses");
  });

  test("the short UNKNOWN form (15 bytes) and a TCP6 loopback", () => {
    const { header: h, rest } = header(latin1("PROXY UNKNOWN\r\nX"));
    assert.equal(h.headerBytes, 15);
    assert.equal(h.source, undefined);
    assert.equal(rest.toString(), "X");
    const six = header(proxyV1("::1", "::1", 40000, 9876)).header;
    assert.equal(six.protocol, "tcp6");
    assert.equal(six.source?.address, "[::1]:40000");
    assert.equal(six.destination?.port, 9876);
  });

  test("ports 0 and 65535 are in range", () => {
    assert.equal(header(latin1("PROXY TCP4 1.2.3.4 5.6.7.8 0 65535\r\n")).header.source?.port, 0);
  });

  const bad: [string, string, ProxyProtocolErrorReason][] = [
    ["a LF without CR", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "line-ending"],
    ["a CR without LF", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", "line-ending"],
    ["no CRLF in 107 bytes", `PROXY UNKNOWN ${"a".repeat(100)}`, "line-too-long"],
    ["the CRLF one byte late (108)", `PROXY UNKNOWN ${"a".repeat(92)}\r\n`, "line-too-long"],
    ["no space after PROXY", "PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n", "syntax"],
    ["two spaces", "PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "syntax"],
    ["an unknown protocol", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", "syntax"],
    ["a field missing", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "syntax"],
    ["a field too many", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "syntax"],
    ["a trailing space", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", "syntax"],
    ["a leading zero in an IPv4 byte", "PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n", "address"],
    ["an IPv4 byte above 255", "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", "address"],
    ["an IPv6 address in TCP4", "PROXY TCP4 ::1 5.6.7.8 1 2\r\n", "address"],
    ["an IPv4 address in TCP6", "PROXY TCP6 ::1 5.6.7.8 1 2\r\n", "address"],
    ["an IPv6 zone", "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", "address"],
    ["a port above 65535", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", "port"],
    ["a port with a leading zero", "PROXY TCP4 1.2.3.4 5.6.7.8 0080 2\r\n", "port"],
    ["a signed port", "PROXY TCP4 1.2.3.4 5.6.7.8 +80 2\r\n", "port"],
  ];
  for (const [what, line, reason] of bad) {
    test(`refused: ${what} (${reason})`, () => refused(latin1(line), reason));
  }
});

describe("PROXY v2 (spec §2.2)", () => {
  test("HAProxy's TCP4 header before an HTTP request (a capture)", () => {
    const bytes = Buffer.concat([
      Buffer.from("0d0a0d0a000d0a515549540a2111000cac130001ac130003a6520050", "hex"),
      latin1("GET / HTTP/1.1\r\n"),
    ]);
    const { header: h, rest } = header(bytes);
    assert.equal(h.version, 2);
    assert.equal(h.command, "proxy");
    assert.equal(h.protocol, "tcp4");
    assert.equal(h.source?.address, "172.19.0.1:42578");
    assert.equal(h.destination?.address, "172.19.0.3:80");
    assert.equal(h.headerBytes, 28);
    assert.equal(rest.toString("latin1"), "GET / HTTP/1.1\r\n");
  });

  test("LOCAL (a health check): the block is skipped, whatever its length and family", () => {
    for (const bytes of [
      proxyV2({ command: "local", famProto: 0x00 }),
      proxyV2({ command: "local", famProto: 0x11, addresses: ipv4Block("10.0.0.1", "10.0.0.2", 1, 2) }),
    ]) {
      const { header: h, rest } = header(Buffer.concat([bytes, latin1("after")]));
      assert.equal(h.command, "local");
      assert.equal(h.source, undefined);
      assert.deepEqual(h.tlvs, []);
      assert.equal(rest.toString(), "after");
    }
  });

  test("PROXY over AF_UNSPEC: accepted, address information ignored", () => {
    const h = header(proxyV2({ famProto: 0x00, addresses: Buffer.alloc(7) })).header;
    assert.equal(h.command, "proxy");
    assert.equal(h.protocol, "unspec");
    assert.equal(h.source, undefined);
  });

  test("TCP6 with ALPN, authority and unique-id TLVs, and a CRC32C", () => {
    const src = v6("2001 0db8 0000 0000 0000 0000 0000 0001");
    const dst = v6("0000 0000 0000 0000 0000 ffff 7f00 0001");
    const tlvs = [
      { type: 0x01, value: latin1("h2") },
      { type: 0x02, value: latin1("broker.example") },
      { type: 0x05, value: Buffer.from([1, 2, 3, 0xff]) },
    ];
    const bytes = proxyV2({
      famProto: 0x21,
      addresses: ipv6Block(src, dst, 50000, 10911),
      tlvs,
      crc32c: true,
    });
    const h = header(bytes).header;
    assert.equal(h.protocol, "tcp6");
    assert.equal(h.source?.address, "[2001:db8::1]:50000");
    assert.equal(h.destination?.address, "[::ffff:127.0.0.1]:10911");
    assert.deepEqual(
      h.tlvs.slice(0, 3).map((t) => [t.type, t.value]),
      tlvs.map((t) => [t.type, t.value]),
    );
    assert.equal(h.tlvs[3]?.type, 0x03);
    // One flipped bit anywhere in the header breaks the checksum.
    const broken = Buffer.from(bytes);
    broken[30] = broken[30]! ^ 1;
    refused(broken, "checksum");
  });

  test("UDP4 and UNIX stream families", () => {
    assert.equal(
      header(proxyV2({ famProto: 0x12, addresses: ipv4Block("1.2.3.4", "5.6.7.8", 53, 53) })).header.protocol,
      "udp4",
    );
    const unix = header(
      proxyV2({ famProto: 0x31, addresses: unixBlock("/run/client.sock", "/run/mq.sock") }),
    ).header;
    assert.equal(unix.protocol, "unix-stream");
    assert.equal(unix.source?.address, "/run/client.sock");
    assert.equal(unix.destination?.address, "/run/mq.sock");
  });

  const fixed = (ver: number, fam: number, len = 0): Buffer => {
    const b = Buffer.alloc(16);
    PROXY_V2_SIGNATURE.copy(b);
    b[12] = ver;
    b[13] = fam;
    b.writeUInt16BE(len, 14);
    return b;
  };
  const bad: [string, Buffer, ProxyProtocolErrorReason][] = [
    ["version 1 in the binary format", fixed(0x11, 0x11), "version"],
    ["version 3", fixed(0x31, 0x11), "version"],
    ["command 2", fixed(0x22, 0x11), "command"],
    ["family 4", fixed(0x21, 0x41), "family"],
    ["protocol 3", fixed(0x21, 0x13), "family"],
    ["an IPv4 block of 8 bytes", Buffer.concat([fixed(0x21, 0x11, 8), Buffer.alloc(8)]), "address-length"],
    ["an IPv6 block of 12 bytes", Buffer.concat([fixed(0x21, 0x21, 12), Buffer.alloc(12)]), "address-length"],
    [
      "a TLV cut short",
      Buffer.concat([
        fixed(0x21, 0x11, 14),
        ipv4Block("1.2.3.4", "5.6.7.8", 1, 2),
        Buffer.from([0x01, 0x00]),
      ]),
      "tlv",
    ],
    [
      "a TLV longer than the header",
      Buffer.concat([
        fixed(0x21, 0x11, 16),
        ipv4Block("1.2.3.4", "5.6.7.8", 1, 2),
        Buffer.from([0x01, 0x00, 0x02, 0x41]),
      ]),
      "tlv",
    ],
    [
      "a CRC32C TLV of 2 bytes",
      proxyV2({
        addresses: ipv4Block("1.2.3.4", "5.6.7.8", 1, 2),
        tlvs: [{ type: 0x03, value: Buffer.alloc(2) }],
      }),
      "tlv",
    ],
  ];
  for (const [what, bytes, reason] of bad) {
    test(`refused: ${what} (${reason})`, () => refused(bytes, reason));
  }
});

describe("detection", () => {
  test("a RocketMQ frame, a TLS ClientHello and HTTP are no header, decided on their first byte", () => {
    for (const first of [0x00, 0x16, 0x47]) {
      const result = parseProxyHeader(Buffer.from([first]));
      assert.equal(result.kind, "absent");
    }
    const frame = Buffer.from("0000001a0000000d", "hex");
    const result = parseProxyHeader(frame);
    assert.equal(result.kind, "absent");
    assert.equal(result.kind === "absent" && result.rest, frame, "every byte is handed back");
  });

  test("a prefix of either signature waits; a byte that leaves both decides 'absent'", () => {
    assert.equal(parseProxyHeader(Buffer.alloc(0)).kind, "need-more");
    assert.equal(parseProxyHeader(latin1("PROX")).kind, "need-more");
    assert.equal(parseProxyHeader(PROXY_V2_SIGNATURE.subarray(0, 11)).kind, "need-more");
    assert.equal(parseProxyHeader(latin1("PROXZ")).kind, "absent");
    assert.equal(parseProxyHeader(Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x01])).kind, "absent");
  });

  test("the chunk-fed parser refuses a push after its decision", () => {
    const parser = new ProxyHeaderParser();
    assert.equal(parser.push(latin1("PROXY UNKNOWN\r\n")).kind, "header");
    assert.throws(() => parser.push(latin1("x")), ProxyProtocolError);
  });
});

describe("helpers", () => {
  test("CRC32C check value (RFC 3720 B.4: '123456789' → 0xe3069283)", () => {
    assert.equal(crc32c(latin1("123456789")), 0xe3069283);
    assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa);
  });

  test("IPv6 text is RFC 5952's", () => {
    const cases: [string, string][] = [
      ["00000000000000000000000000000001", "::1"],
      ["00000000000000000000000000000000", "::"],
      ["20010db8000000000000000000000001", "2001:db8::1"],
      ["00010000000000010000000000000001", "1:0:0:1::1"],
      ["20010db8000100000001000100010001", "2001:db8:1:0:1:1:1:1"],
      ["00000000000000000000ffff01020304", "::ffff:1.2.3.4"],
      ["fe800000000000000000000000000000", "fe80::"],
    ];
    for (const [hex, text] of cases) assert.equal(formatIpv6(Buffer.from(hex, "hex")), text, hex);
  });
});

// ---- every chunk boundary --------------------------------------------------------------------

type Outcome =
  | { kind: "need-more" }
  | { kind: "absent"; tail: Buffer }
  | { kind: "header"; header: ProxyHeader; tail: Buffer }
  | { kind: "error"; code: string; reason: string };

function asError(err: unknown): Outcome {
  if (!(err instanceof ProxyProtocolError)) throw err;
  return { kind: "error", code: err.code, reason: err.reason };
}

function whole(bytes: Buffer): Outcome {
  try {
    const r = parseProxyHeader(bytes);
    if (r.kind === "need-more") return { kind: "need-more" };
    if (r.kind === "absent") return { kind: "absent", tail: Buffer.from(r.rest) };
    return { kind: "header", header: r.header, tail: Buffer.from(r.rest) };
  } catch (err) {
    return asError(err);
  }
}

/** Feeds `bytes` cut at `cuts` (sorted offsets); the bytes after a decision are the stream's. */
function chunked(bytes: Buffer, cuts: readonly number[]): Outcome {
  const parser = new ProxyHeaderParser();
  const bounds = [0, ...cuts, bytes.length];
  for (let i = 0; i + 1 < bounds.length; i++) {
    let r: ReturnType<ProxyHeaderParser["push"]>;
    try {
      r = parser.push(bytes.subarray(bounds[i], bounds[i + 1]));
    } catch (err) {
      return asError(err);
    }
    if (r.kind === "need-more") continue;
    const tail = Buffer.concat([r.rest, bytes.subarray(bounds[i + 1])]);
    return r.kind === "absent" ? { kind: "absent", tail } : { kind: "header", header: r.header, tail };
  }
  return { kind: "need-more" };
}

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join("."));
const port = fc.nat(65535);
const bytes16 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a));
const tlvArb = fc.record({
  type: fc.integer({ min: 0, max: 255 }).filter((t) => t !== 3),
  value: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
});

const v1Header = fc.oneof(
  fc.tuple(ipv4, ipv4, port, port).map(([s, d, sp, dp]) => proxyV1(s, d, sp, dp)),
  fc
    .tuple(bytes16, bytes16, port, port)
    .map(([s, d, sp, dp]) => proxyV1(formatIpv6(s), formatIpv6(d), sp, dp)),
  fc.constant(latin1("PROXY UNKNOWN\r\n")),
);
const v2Header = fc
  .record({
    command: fc.constantFrom("local" as const, "proxy" as const),
    family: fc.constantFrom(0x00, 0x11, 0x12, 0x21, 0x22, 0x31),
    tcp4: fc.tuple(ipv4, ipv4, port, port),
    tcp6: fc.tuple(bytes16, bytes16, port, port),
    tlvs: fc.array(tlvArb, { maxLength: 4 }),
    crc32c: fc.boolean(),
  })
  .map((f) => {
    const addresses =
      f.family === 0x00
        ? Buffer.alloc(0)
        : f.family >> 4 === 1
          ? ipv4Block(...f.tcp4)
          : f.family >> 4 === 2
            ? ipv6Block(...f.tcp6)
            : unixBlock("/tmp/a", "/tmp/b");
    return proxyV2({ command: f.command, famProto: f.family, addresses, tlvs: f.tlvs, crc32c: f.crc32c });
  });
const after = fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a));
/** Valid headers, the same with one byte changed (most of the malformed space), and noise. */
const input = fc.oneof(
  fc.tuple(fc.oneof(v1Header, v2Header), after).map(([h, a]) => Buffer.concat([h, a])),
  fc
    .tuple(fc.oneof(v1Header, v2Header), after, fc.nat(), fc.integer({ min: 1, max: 255 }))
    .map(([h, a, at, xor]) => {
      const b = Buffer.concat([h, a]);
      const i = at % h.length;
      b[i] = b[i]! ^ xor;
      return b;
    }),
  fc
    .tuple(fc.constantFrom(latin1("PROXY "), PROXY_V2_SIGNATURE, latin1("PRO")), after)
    .map((p) => Buffer.concat(p)),
  after,
);

describe("every chunk boundary (fast-check, seeded)", () => {
  test("byte by byte, and cut once at every offset, gives the whole buffer's decision", () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(input, (bytes) => {
        const expected = whole(bytes);
        const kind = expected.kind === "error" ? `error:${expected.reason}` : expected.kind;
        seen.set(kind, (seen.get(kind) ?? 0) + 1);
        const everyByte = Array.from({ length: Math.max(0, bytes.length - 1) }, (_, i) => i + 1);
        assert.deepStrictEqual(chunked(bytes, everyByte), expected);
        for (let i = 1; i < bytes.length; i++) assert.deepStrictEqual(chunked(bytes, [i]), expected);
      }),
      { seed: SEED, numRuns: 400 },
    );
    // The inputs reach every outcome, malformed headers of several kinds included.
    for (const kind of ["header", "absent", "need-more"]) assert.ok((seen.get(kind) ?? 0) >= 10, kind);
    const errorKinds = [...seen.keys()].filter((k) => k.startsWith("error:"));
    assert.ok(errorKinds.length >= 5, `error reasons seen: ${errorKinds.join(", ")}`);
  });

  test("any chunking gives the whole buffer's decision", () => {
    fc.assert(
      fc.property(input, fc.uniqueArray(fc.nat(400), { maxLength: 12 }), (bytes, raw) => {
        const cuts = raw.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b);
        assert.deepStrictEqual(chunked(bytes, cuts), whole(bytes));
      }),
      { seed: SEED + 1, numRuns: 1000 },
    );
  });

  test("a valid header always parses, to what was sent, with the bytes after it intact", () => {
    fc.assert(
      fc.property(fc.tuple(ipv4, ipv4, port, port), after, ([s, d, sp, dp], tail) => {
        for (const h of [
          proxyV1(s, d, sp, dp),
          proxyV2({ addresses: ipv4Block(s, d, sp, dp), crc32c: true }),
        ]) {
          const out = whole(Buffer.concat([h, tail]));
          assert.equal(out.kind, "header");
          if (out.kind !== "header") return;
          assert.equal(out.header.source?.address, `${s}:${sp}`);
          assert.equal(out.header.destination?.address, `${d}:${dp}`);
          assert.equal(out.header.headerBytes, h.length);
          assert.deepStrictEqual(out.tail, tail);
        }
      }),
      { seed: SEED + 2, numRuns: 300 },
    );
  });
});
