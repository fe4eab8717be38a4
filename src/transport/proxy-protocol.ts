/**
 * HAProxy's PROXY protocol, versions 1 (text) and 2 (binary, with TLVs), receiver side: a pure
 * parser fed the first bytes of a connection, no I/O (haproxy doc/proxy-protocol.txt; RocketMQ
 * 5.1.4+ reads it with Netty's HAProxyMessageDecoder, reference §10.3). proxy-acceptor.ts reads
 * the socket and decides what the header changes.
 *
 * The decision depends only on the bytes, never on how they were chunked: every check looks at
 * bytes in order and only once they are all there, so a peer gets the same answer whether its
 * header arrives in one segment or one byte at a time.
 *
 * Error convention of this file: results for "need more", "no header" and "header"; a
 * ProxyProtocolError (`MQW_ERR_NEGOTIATION`, with a `reason`) is thrown for bytes that start a
 * PROXY header and then break the spec.
 */

import { isIPv6 } from "node:net";
import { ProxyProtocolError } from "../errors.js";
import { formatAddress, formatIpv6 } from "./address.js";
import { crc32c } from "./crc32c.js";

/** The 12 bytes every v2 header starts with (spec §2.2). */
export const PROXY_V2_SIGNATURE: Buffer = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);
/** "PROXY": how a v1 line starts (spec §2.1). */
const V1_PREFIX = Buffer.from("PROXY", "latin1");
/** Longest v1 line, CRLF included (spec §2.1: "PROXY UNKNOWN" with two full IPv6 addresses). */
export const PROXY_V1_MAX_LINE_BYTES = 107;
/** Fixed part of a v2 header: signature, version/command, family/protocol, length. */
export const PROXY_V2_FIXED_BYTES = 16;

const CR = 0x0d;
const LF = 0x0a;
/** Address block sizes by v2 family (spec §2.2): INET 2×4+2×2, INET6 2×16+2×2, UNIX 2×108. */
const V2_ADDRESS_BYTES = [0, 12, 36, 216] as const;
const UNIX_PATH_BYTES = 108;

/** PP2_TYPE_CRC32C (spec §2.2.3). */
export { crc32c, formatIpv6 };

export const PP2_TYPE_CRC32C = 0x03;

/** The transport the proxy saw; "unspec" for v1 UNKNOWN and v2 AF_UNSPEC or UNSPEC. */
export type ProxyTransportProtocol =
  | "tcp4"
  | "tcp6"
  | "udp4"
  | "udp6"
  | "unix-stream"
  | "unix-dgram"
  | "unspec";

/** One end of the proxied connection: an IP and port, or a Unix path (port 0). */
export interface ProxyEndpoint {
  /** The IP address (IPv6 without brackets), or the Unix path. */
  readonly host: string;
  /** The port; 0 for Unix addresses. */
  readonly port: number;
  /** "host:port" ("[v6]:port"), or the path for Unix addresses. */
  readonly address: string;
}

/** One v2 Type-Length-Value vector (spec §2.2), value copied out of the socket's buffer. */
export interface ProxyTlv {
  /** The TLV type byte (PP2_TYPE_*). */
  readonly type: number;
  /** The value bytes. */
  readonly value: Buffer;
}

/** A parsed header. */
export interface ProxyHeader {
  /** The PROXY protocol version of the header: 1 (text) or 2 (binary). */
  readonly version: 1 | 2;
  /**
   * "proxy": relayed on behalf of `source`. "local": the proxy's own connection (v2 LOCAL, a health
   * check): the receiver keeps the socket's addresses (spec §2.2).
   */
  readonly command: "proxy" | "local";
  /** The address family and transport of the proxied connection. */
  readonly protocol: ProxyTransportProtocol;
  /** The real client; undefined for LOCAL and for unspecified families (use the socket's own). */
  readonly source: ProxyEndpoint | undefined;
  /** The address the client connected to, at the proxy; undefined when `source` is. */
  readonly destination: ProxyEndpoint | undefined;
  /** v2 TLVs in order (CRC32C verified when present); empty for v1 and LOCAL. */
  readonly tlvs: readonly ProxyTlv[];
  /** Length of the header on the wire. */
  readonly headerBytes: number;
}

/** What the first bytes show. */
export type ProxyParseResult =
  /** Undecided: at least `atLeast` bytes in all are needed before asking again. */
  | { readonly kind: "need-more"; readonly atLeast: number }
  /** Not a PROXY header: the connection starts with `rest` (every byte given). */
  | { readonly kind: "absent"; readonly rest: Buffer }
  /** A complete header, and the bytes after it. */
  | { readonly kind: "header"; readonly header: ProxyHeader; readonly rest: Buffer };

/**
 * Decides from the first bytes of a connection (all of them so far, from byte 0).
 * @throws ProxyProtocolError when the bytes start a PROXY header that breaks the spec.
 */
export function parseProxyHeader(head: Buffer): ProxyParseResult {
  const n = head.length;
  // Decide "absent" as soon as the bytes leave both signatures: a RocketMQ frame or a TLS
  // ClientHello is told apart by its first byte, with no wait for 12 bytes as Netty's detector does.
  const v1 = prefixMatches(head, V1_PREFIX);
  const v2 = prefixMatches(head, PROXY_V2_SIGNATURE);
  if (v1 && n >= V1_PREFIX.length) return parseV1(head);
  if (v2 && n >= PROXY_V2_SIGNATURE.length) return parseV2(head);
  if (v1 || v2) return { kind: "need-more", atLeast: n + 1 };
  return { kind: "absent", rest: head };
}

/**
 * The chunk-fed form of {@link parseProxyHeader}: holds chunks until the parser's `atLeast` is
 * reached, so a header that arrives a byte at a time is joined once, not once per byte.
 */
export class ProxyHeaderParser {
  #chunks: Buffer[] = [];
  #bytes = 0;
  #atLeast = 1;
  #done = false;

  /** Bytes held while undecided. */
  get bufferedBytes(): number {
    return this.#bytes;
  }

  /**
   * Adds the next chunk; returns the decision, or "need-more".
   * @throws ProxyProtocolError as {@link parseProxyHeader}, and after a decision was returned.
   */
  push(chunk: Buffer): ProxyParseResult {
    if (this.#done) throw new ProxyProtocolError("syntax", "PROXY header parser already decided");
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#bytes += chunk.length;
    }
    if (this.#bytes < this.#atLeast) return { kind: "need-more", atLeast: this.#atLeast };
    const [only] = this.#chunks;
    const head =
      this.#chunks.length === 1 && only !== undefined ? only : Buffer.concat(this.#chunks, this.#bytes);
    this.#chunks = [head];
    let result: ProxyParseResult;
    try {
      result = parseProxyHeader(head);
    } catch (err) {
      this.#finish();
      throw err;
    }
    if (result.kind === "need-more") this.#atLeast = result.atLeast;
    else this.#finish();
    return result;
  }

  #finish(): void {
    this.#done = true;
    this.#chunks = [];
    this.#bytes = 0;
  }
}

function prefixMatches(head: Buffer, signature: Buffer): boolean {
  const end = Math.min(head.length, signature.length);
  for (let i = 0; i < end; i++) if (head[i] !== signature[i]) return false;
  return true;
}

// ---- version 1 -----------------------------------------------------------------------------

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const PORT = /^(?:0|[1-9]\d{0,4})$/;

/** Spec §2.1: one US-ASCII line, single spaces, CRLF within 107 bytes, no leading zeros. */
function parseV1(head: Buffer): ProxyParseResult {
  const limit = Math.min(head.length, PROXY_V1_MAX_LINE_BYTES);
  const tooLong = (): ProxyProtocolError =>
    new ProxyProtocolError(
      "line-too-long",
      `PROXY v1 line has no CRLF within ${PROXY_V1_MAX_LINE_BYTES} bytes`,
    );
  let end = -1;
  for (let i = 0; i < limit; i++) {
    const b = head.readUInt8(i);
    if (b === LF) throw new ProxyProtocolError("line-ending", "PROXY v1 line has a LF without CR");
    if (b !== CR) continue;
    // A CR in the last allowed byte leaves no room for its LF, whatever follows.
    if (i + 2 > PROXY_V1_MAX_LINE_BYTES) throw tooLong();
    if (i + 1 >= head.length) return { kind: "need-more", atLeast: i + 2 };
    if (head[i + 1] !== LF) throw new ProxyProtocolError("line-ending", "PROXY v1 line has a CR without LF");
    end = i;
    break;
  }
  if (end < 0) {
    if (head.length >= PROXY_V1_MAX_LINE_BYTES) throw tooLong();
    return { kind: "need-more", atLeast: head.length + 1 };
  }
  const headerBytes = end + 2;
  const rest = head.subarray(headerBytes);
  const fields = head.toString("latin1", 0, end).split(" ");
  const family = fields[1];
  if (fields[0] !== "PROXY" || family === undefined) {
    throw new ProxyProtocolError("syntax", "PROXY v1 line does not start with 'PROXY '");
  }
  if (family === "UNKNOWN") {
    // The receiver ignores the rest of the line and keeps the socket's addresses (spec §2.1).
    return { kind: "header", header: v1Header("unspec", undefined, undefined, headerBytes), rest };
  }
  if (family !== "TCP4" && family !== "TCP6") {
    throw new ProxyProtocolError(
      "syntax",
      `PROXY v1 protocol must be TCP4, TCP6 or UNKNOWN, got ${quote(family)}`,
    );
  }
  if (fields.length !== 6) {
    throw new ProxyProtocolError("syntax", `PROXY v1 ${family} line needs 6 fields, got ${fields.length}`);
  }
  const [, , srcHost, dstHost, srcPort, dstPort] = fields as [string, string, string, string, string, string];
  const source = v1Endpoint(family, srcHost, srcPort);
  const destination = v1Endpoint(family, dstHost, dstPort);
  return {
    kind: "header",
    header: v1Header(family === "TCP4" ? "tcp4" : "tcp6", source, destination, headerBytes),
    rest,
  };
}

function v1Endpoint(family: "TCP4" | "TCP6", host: string, port: string): ProxyEndpoint {
  const valid = family === "TCP4" ? IPV4.test(host) : isIPv6(host) && !host.includes("%");
  if (!valid) throw new ProxyProtocolError("address", `PROXY v1 ${family} address ${quote(host)} is invalid`);
  const p = Number(port);
  if (!PORT.test(port) || p > 65535) {
    throw new ProxyProtocolError("port", `PROXY v1 port ${quote(port)} is invalid`);
  }
  const h = family === "TCP6" ? host.toLowerCase() : host;
  return { host: h, port: p, address: formatAddress(h, p) };
}

function v1Header(
  protocol: ProxyTransportProtocol,
  source: ProxyEndpoint | undefined,
  destination: ProxyEndpoint | undefined,
  headerBytes: number,
): ProxyHeader {
  return { version: 1, command: "proxy", protocol, source, destination, tlvs: [], headerBytes };
}

function quote(text: string): string {
  return JSON.stringify(text.length > 48 ? `${text.slice(0, 48)}…` : text);
}

// ---- version 2 -----------------------------------------------------------------------------

const PROTOCOLS: readonly (readonly ProxyTransportProtocol[])[] = [
  ["unspec", "unspec", "unspec"],
  ["unspec", "tcp4", "udp4"],
  ["unspec", "tcp6", "udp6"],
  ["unspec", "unix-stream", "unix-dgram"],
];

/** Spec §2.2: checks each field as soon as its byte is there, in wire order. */
function parseV2(head: Buffer): ProxyParseResult {
  const n = head.length;
  if (n < 13) return { kind: "need-more", atLeast: 13 };
  const verCmd = head.readUInt8(12);
  if (verCmd >> 4 !== 2)
    throw new ProxyProtocolError("version", `PROXY v2 version must be 2, got ${verCmd >> 4}`);
  const command = verCmd & 0x0f;
  if (command > 1)
    throw new ProxyProtocolError("command", `PROXY v2 command must be LOCAL or PROXY, got ${command}`);
  if (n < 14) return { kind: "need-more", atLeast: 14 };
  const famProto = head.readUInt8(13);
  const family = famProto >> 4;
  const transport = famProto & 0x0f;
  if (family > 3 || transport > 2) {
    throw new ProxyProtocolError(
      "family",
      `PROXY v2 family/protocol byte 0x${famProto.toString(16)} is invalid`,
    );
  }
  if (n < PROXY_V2_FIXED_BYTES) return { kind: "need-more", atLeast: PROXY_V2_FIXED_BYTES };
  const headerBytes = PROXY_V2_FIXED_BYTES + head.readUInt16BE(14);
  if (n < headerBytes) return { kind: "need-more", atLeast: headerBytes };
  const rest = head.subarray(headerBytes);
  // biome-ignore lint/style/noNonNullAssertion: family <= 3 and transport <= 2 were checked above
  const protocol = PROTOCOLS[family]![transport]!;
  // LOCAL: the block is discarded, family included (spec §2.2). PROXY over an unspecified
  // family: the address information is ignored and the socket's addresses stay.
  if (command === 0 || protocol === "unspec") {
    const header: ProxyHeader = {
      version: 2,
      command: command === 0 ? "local" : "proxy",
      protocol,
      source: undefined,
      destination: undefined,
      tlvs: [],
      headerBytes,
    };
    return { kind: "header", header, rest };
  }
  const addressBytes = V2_ADDRESS_BYTES[family as 1 | 2 | 3];
  const at = PROXY_V2_FIXED_BYTES;
  if (headerBytes - at < addressBytes) {
    throw new ProxyProtocolError(
      "address-length",
      `PROXY v2 ${protocol} needs ${addressBytes} address bytes, the header has ${headerBytes - at}`,
    );
  }
  let source: ProxyEndpoint;
  let destination: ProxyEndpoint;
  if (family === 3) {
    source = unixEndpoint(head, at);
    destination = unixEndpoint(head, at + UNIX_PATH_BYTES);
  } else {
    const size = family === 1 ? 4 : 16;
    const ports = at + 2 * size;
    source = ipEndpoint(head, at, size, head.readUInt16BE(ports));
    destination = ipEndpoint(head, at + size, size, head.readUInt16BE(ports + 2));
  }
  const tlvs = parseTlvs(head, at + addressBytes, headerBytes);
  const header: ProxyHeader = {
    version: 2,
    command: "proxy",
    protocol,
    source,
    destination,
    tlvs,
    headerBytes,
  };
  return { kind: "header", header, rest };
}

function ipEndpoint(head: Buffer, at: number, size: 4 | 16, port: number): ProxyEndpoint {
  const host =
    size === 4 ? `${head[at]}.${head[at + 1]}.${head[at + 2]}.${head[at + 3]}` : formatIpv6(head, at);
  return { host, port, address: formatAddress(host, port) };
}

/** A NUL-padded 108-byte sun_path. */
function unixEndpoint(head: Buffer, at: number): ProxyEndpoint {
  const end = head.indexOf(0, at);
  const path = head.toString("utf8", at, end < 0 || end > at + UNIX_PATH_BYTES ? at + UNIX_PATH_BYTES : end);
  return { host: path, port: 0, address: path };
}

/** TLVs from `from` to `end` (spec §2.2): type, 16-bit length, value; each must fit. */
function parseTlvs(head: Buffer, from: number, end: number): ProxyTlv[] {
  const tlvs: ProxyTlv[] = [];
  let at = from;
  let crcAt = -1;
  while (at < end) {
    if (end - at < 3) throw new ProxyProtocolError("tlv", `PROXY v2 TLV at byte ${at} is cut short`);
    const type = head.readUInt8(at);
    const length = head.readUInt16BE(at + 1);
    if (at + 3 + length > end) {
      throw new ProxyProtocolError("tlv", `PROXY v2 TLV 0x${type.toString(16)} runs past the header`);
    }
    if (type === PP2_TYPE_CRC32C) {
      if (length !== 4) throw new ProxyProtocolError("tlv", `PROXY v2 CRC32C TLV has ${length} bytes, not 4`);
      crcAt = at + 3;
    }
    // A copy: the socket's first chunk may be large, and a TLV lives as long as the channel.
    tlvs.push({ type, value: Buffer.from(head.subarray(at + 3, at + 3 + length)) });
    at += 3 + length;
  }
  if (crcAt >= 0) checkCrc32c(head.subarray(0, end), crcAt);
  return tlvs;
}

/** Spec §2.2.3: the CRC32C of the whole header with the checksum's own 4 bytes as zeros. */
function checkCrc32c(header: Buffer, crcAt: number): void {
  const sent = header.readUInt32BE(crcAt);
  const copy = Buffer.from(header);
  copy.writeUInt32BE(0, crcAt);
  const computed = crc32c(copy);
  if (computed !== sent) {
    throw new ProxyProtocolError(
      "checksum",
      `PROXY v2 CRC32C is 0x${sent.toString(16)}, the header's is 0x${computed.toString(16)}`,
    );
  }
}
