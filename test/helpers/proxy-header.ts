/**
 * PROXY protocol headers as a sender writes them (haproxy doc/proxy-protocol.txt §2.1–2.2), for
 * the parser's tests and for test clients that play the proxy; and a Connector that writes one
 * before anything else, as HAProxy's `send-proxy` / `send-proxy-v2` do.
 */
import { isIPv4 } from "node:net";
import type { Duplex } from "node:stream";
import { type Connector, TcpConnector } from "../../src/index.js";
import { crc32c, PROXY_V2_SIGNATURE } from "../../src/transport/proxy-protocol.js";

/** A v1 line: "PROXY TCP4|TCP6 src dst sport dport\r\n". */
export function proxyV1(src: string, dst: string, srcPort: number, dstPort: number): Buffer {
  const family = isIPv4(src) ? "TCP4" : "TCP6";
  return Buffer.from(`PROXY ${family} ${src} ${dst} ${srcPort} ${dstPort}\r\n`, "latin1");
}

/** Fields of a v2 header; addresses as raw bytes (4, 16 or 108 each) or omitted. */
export interface V2Fields {
  command?: "local" | "proxy";
  /** The 14th byte: family << 4 | protocol (0x11 TCP4, 0x21 TCP6, 0x31 UNIX stream, 0x00 UNSPEC). */
  famProto?: number;
  /** The address block as sent (source address, destination address, ports). */
  addresses?: Buffer;
  tlvs?: readonly { type: number; value: Buffer }[];
  /** Append a CRC32C TLV and fill it in. */
  crc32c?: boolean;
}

/** A v2 header from its fields. */
export function proxyV2(fields: V2Fields): Buffer {
  const addresses = fields.addresses ?? Buffer.alloc(0);
  const tlvs = [...(fields.tlvs ?? [])];
  if (fields.crc32c) tlvs.push({ type: 0x03, value: Buffer.alloc(4) });
  const tlvBytes = Buffer.concat(tlvs.map((t) => tlv(t.type, t.value)));
  const fixed = Buffer.alloc(16);
  PROXY_V2_SIGNATURE.copy(fixed, 0);
  fixed[12] = fields.command === "local" ? 0x20 : 0x21;
  fixed[13] = fields.famProto ?? 0x11;
  fixed.writeUInt16BE(addresses.length + tlvBytes.length, 14);
  const header = Buffer.concat([fixed, addresses, tlvBytes]);
  if (fields.crc32c) header.writeUInt32BE(crc32c(header), header.length - 4);
  return header;
}

function tlv(type: number, value: Buffer): Buffer {
  const head = Buffer.alloc(3);
  head[0] = type;
  head.writeUInt16BE(value.length, 1);
  return Buffer.concat([head, value]);
}

/** The address block of TCP over IPv4 (12 bytes). */
export function ipv4Block(src: string, dst: string, srcPort: number, dstPort: number): Buffer {
  const block = Buffer.alloc(12);
  Buffer.from(src.split(".").map(Number)).copy(block, 0);
  Buffer.from(dst.split(".").map(Number)).copy(block, 4);
  block.writeUInt16BE(srcPort, 8);
  block.writeUInt16BE(dstPort, 10);
  return block;
}

/** The address block of TCP over IPv6 (36 bytes) from 16-byte addresses. */
export function ipv6Block(src: Buffer, dst: Buffer, srcPort: number, dstPort: number): Buffer {
  const block = Buffer.alloc(36);
  src.copy(block, 0);
  dst.copy(block, 16);
  block.writeUInt16BE(srcPort, 32);
  block.writeUInt16BE(dstPort, 34);
  return block;
}

/** The address block of AF_UNIX (2 × 108 bytes, NUL-padded paths). */
export function unixBlock(src: string, dst: string): Buffer {
  const block = Buffer.alloc(216);
  block.write(src, 0, "utf8");
  block.write(dst, 108, "utf8");
  return block;
}

/**
 * A TCP connector that writes `header` first on every connection it opens, as a PROXY-protocol
 * sender does; `header` may depend on the socket (its own port as the "client" port).
 */
export class ProxyHeaderConnector implements Connector {
  readonly #tcp = new TcpConnector();
  readonly #header: (socket: Duplex) => Buffer;
  constructor(header: Buffer | ((socket: Duplex) => Buffer)) {
    this.#header = typeof header === "function" ? header : () => header;
  }
  async open(target: string, signal?: AbortSignal): Promise<Duplex> {
    const socket = await this.#tcp.open(target, signal);
    socket.write(this.#header(socket));
    return socket;
  }
}
