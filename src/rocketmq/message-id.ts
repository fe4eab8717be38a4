/**
 * RocketMQ's two message ids (RocketMQ 4.9.8):
 * - the client id, UNIQ_KEY (`MessageClientIDSetter`): host IP, pid, a per-process tag, the
 *   milliseconds since the start of the month and a counter, as upper-case hex;
 * - the offset id (`MessageDecoder.createMessageId` / `decodeMessageId`): the store host's
 *   address and port and the commit log offset, as upper-case hex.
 * Also the host-address formatting the message decoder shares (Java's `InetAddress` forms).
 *
 * Error convention: a malformed id or address argument throws `InvalidArgumentError`.
 */
import { randomBytes } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";
import { networkInterfaces } from "node:os";
import type { Clock } from "../clock.js";
import { InvalidArgumentError } from "../errors.js";

/** Makes UNIQ_KEY values; one per producer process, as Java's static `MessageClientIDSetter`. */
export interface UniqIdGenerator {
  /** The next id: 32 upper-case hex characters (56 when the host IP is IPv6). */
  next(): string;
}

/** Options of {@link createUniqIdGenerator}; every one has a default. */
export interface UniqIdGeneratorOptions {
  /** Time source (epoch ms); default the system clock. */
  clock?: Pick<Clock, "now">;
  /**
   * Host IP, dotted IPv4 or IPv6 text or 4/16 bytes; default the first public IPv4 address of
   * `os.networkInterfaces()`, else the first private one (as Java's `UtilAll.getIP`).
   */
  ip?: string | Uint8Array;
  /** Process id, written as its low 16 bits; default `process.pid`. */
  pid?: number;
  /** 4 bytes standing in for Java's classloader hash; default random. */
  instanceTag?: number;
  /** First counter value (16 bits are written); default 0, as Java's `AtomicInteger(0)`. */
  counterStart?: number;
}

const HEX = "0123456789ABCDEF";

/** `UtilAll.bytes2string`: upper-case hex. */
export function bytesToHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += HEX.charAt(b >> 4) + HEX.charAt(b & 15);
  return s;
}

function hexToBytes(hex: string, what: string, lengths: readonly number[]): Buffer {
  if (typeof hex !== "string" || !lengths.includes(hex.length) || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new InvalidArgumentError(`${what} must be ${lengths.join(" or ")} hex characters`);
  }
  return Buffer.from(hex, "hex");
}

/** RFC 1918 ranges, `UtilAll.isInternalIP`. */
function isPrivateIpv4(ip: Uint8Array): boolean {
  const [a = 0, b = 0] = ip;
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

/**
 * The IP `UtilAll.getIP` would pick: the first non-loopback IPv4 outside RFC 1918, else the first
 * RFC 1918 one, else 127.0.0.1 (Java would throw and use a fake IP made of the clock).
 */
export function pickHostIp(
  interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces(),
): Uint8Array {
  let privateIp: Uint8Array | undefined;
  for (const list of Object.values(interfaces)) {
    for (const info of list ?? []) {
      if (info.family !== "IPv4" || info.internal) continue;
      const ip = addressToBytes(info.address);
      if (!isPrivateIpv4(ip)) return ip;
      privateIp ??= ip;
    }
  }
  return privateIp ?? Uint8Array.of(127, 0, 0, 1);
}

/** Local midnight of the first of the month holding `ms`, and of the next one (Java's Calendar). */
function monthBounds(ms: number): { start: number; next: number } {
  const d = new Date(ms);
  return {
    start: new Date(d.getFullYear(), d.getMonth(), 1).getTime(),
    next: new Date(d.getFullYear(), d.getMonth() + 1, 1).getTime(),
  };
}

function hex32(n: number): string {
  return (n >>> 0).toString(16).toUpperCase().padStart(8, "0");
}

/** A UNIQ_KEY generator, `MessageClientIDSetter.createUniqID`. */
export function createUniqIdGenerator(options: UniqIdGeneratorOptions = {}): UniqIdGenerator {
  const clock = options.clock ?? { now: Date.now };
  const ip = options.ip === undefined ? pickHostIp() : toIpBytes(options.ip, "ip");
  const pid = options.pid ?? process.pid;
  if (!Number.isInteger(pid) || pid < 0) throw new InvalidArgumentError("pid must be a non-negative integer");
  const tag = options.instanceTag ?? randomBytes(4).readUInt32BE(0);
  if (!Number.isInteger(tag)) throw new InvalidArgumentError("instanceTag must be an integer");
  let counter = options.counterStart ?? 0;
  if (!Number.isInteger(counter)) throw new InvalidArgumentError("counterStart must be an integer");
  const fixed = `${bytesToHex(ip)}${(pid & 0xffff).toString(16).toUpperCase().padStart(4, "0")}${hex32(tag)}`;
  let { start, next } = monthBounds(clock.now());
  return {
    next(): string {
      const now = clock.now();
      // Java recomputes only forward, at the month boundary.
      if (now >= next) ({ start, next } = monthBounds(now));
      let diff = now - start;
      // "may cause by NTP": a small step back is written as 0.
      if (diff < 0 && diff > -1_000_000) diff = 0;
      const id = `${fixed}${hex32(diff | 0)}${(counter & 0xffff).toString(16).toUpperCase().padStart(4, "0")}`;
      counter = (counter + 1) | 0;
      return id;
    },
  };
}

/** What {@link parseUniqId} reads from a UNIQ_KEY. */
export interface UniqIdInfo {
  /** `getIPStrFromID`: dotted IPv4, or 8 zero-padded hex groups for IPv6. */
  ip: string;
  /** `getPidFromID`: the low 16 bits of the producer's pid. */
  pid: number;
  /** `getNearlyTimeFromID`: epoch ms, within the month before `nowMs`. */
  timestamp: number;
  /** The 16-bit counter. */
  counter: number;
}

/** Decodes a UNIQ_KEY (32 or 56 hex characters) like `MessageClientIDSetter`'s getters. */
export function parseUniqId(id: string, nowMs: number = Date.now()): UniqIdInfo {
  const bytes = hexToBytes(id, "UNIQ_KEY", [32, 56]);
  const ipLength = bytes.length === 28 ? 16 : 4;
  const ipBytes = bytes.subarray(0, ipLength);
  const ip = ipLength === 4 ? [...ipBytes].join(".") : zeroPaddedIpv6(ipBytes);
  const span = bytes.readUInt32BE(ipLength + 6);
  let monthStart = monthBounds(nowMs).start;
  if (monthStart + span >= nowMs) {
    const d = new Date(monthStart);
    monthStart = new Date(d.getFullYear(), d.getMonth() - 1, 1).getTime();
  }
  return {
    ip,
    pid: bytes.readUInt16BE(bytes.length - 12),
    timestamp: monthStart + span,
    counter: bytes.readUInt16BE(bytes.length - 2),
  };
}

/** `UtilAll.ipToIPv6Str`. */
function zeroPaddedIpv6(ip: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytesToHex(ip.subarray(i, i + 2)).toLowerCase());
  return groups.join(":");
}

/** Parses dotted IPv4 or IPv6 text (with `::` and an embedded IPv4 tail) into 4 or 16 bytes. */
export function addressToBytes(address: string): Uint8Array {
  if (isIPv4(address)) return Uint8Array.from(address.split(".").map(Number));
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  const unscoped = bare.split("%", 1)[0] ?? bare;
  if (!isIPv6(unscoped)) throw new InvalidArgumentError(`not an IP address: ${JSON.stringify(address)}`);
  let text = unscoped;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = Buffer.from(addressToBytes(v4[0]));
    text = `${text.slice(0, v4.index)}${b.readUInt16BE(0).toString(16)}:${b.readUInt16BE(2).toString(16)}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups =
    tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill("0"), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = Number.parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

function toIpBytes(ip: string | Uint8Array, what: string): Uint8Array {
  const bytes = typeof ip === "string" ? addressToBytes(ip) : ip;
  if (bytes.length !== 4 && bytes.length !== 16) {
    throw new InvalidArgumentError(`${what} must be 4 or 16 bytes`);
  }
  return bytes;
}

/** True for `::ffff:a.b.c.d`, which Java's `InetAddress.getByAddress` turns into an Inet4Address. */
function isV4Mapped(ip: Uint8Array): boolean {
  if (ip.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}

/**
 * Java's `InetAddress.getHostAddress` for 4 or 16 bytes: dotted IPv4; IPv6 as 8 hex groups
 * without leading zeros and without `::` (`0:0:0:0:0:0:0:1`); an IPv4-mapped IPv6 as IPv4.
 */
export function formatIp(ip: Uint8Array): string {
  if (ip.length === 4) return `${ip[0]}.${ip[1]}.${ip[2]}.${ip[3]}`;
  if (isV4Mapped(ip)) return formatIp(ip.subarray(12));
  const groups: string[] = [];
  const view = new DataView(ip.buffer, ip.byteOffset, ip.byteLength);
  for (let i = 0; i < 16; i += 2) groups.push(view.getUint16(i).toString(16));
  return groups.join(":");
}

/** `ip:port`, an IPv6 address in brackets: `[0:0:0:0:0:0:0:1]:10911`. */
export function formatHost(ip: Uint8Array, port: number): string {
  const text = formatIp(ip);
  return text.includes(":") ? `[${text}]:${port}` : `${text}:${port}`;
}

/** A host as {@link createOffsetMsgId} takes it: address text and port. */
export interface HostAddress {
  /** The IP address as text: dotted IPv4, or IPv6. */
  address: string;
  /** The port. */
  port: number;
}

/**
 * `MessageDecoder.createMessageId(SocketAddress, offset)`: address bytes (4, or 16 for IPv6),
 * port (int32) and commit log offset (int64), big-endian, as upper-case hex: 32 characters for
 * IPv4, 56 for IPv6. `storeHost` may also be the 8 or 20 stored bytes (address then port).
 */
export function createOffsetMsgId(
  storeHost: HostAddress | Uint8Array,
  commitLogOffset: number | bigint,
): string {
  let ip: Uint8Array;
  let port: number;
  if (storeHost instanceof Uint8Array) {
    if (storeHost.length !== 8 && storeHost.length !== 20) {
      throw new InvalidArgumentError("storeHost bytes must be 8 (IPv4) or 20 (IPv6) long");
    }
    ip = storeHost.subarray(0, storeHost.length - 4);
    port = Buffer.from(storeHost.buffer, storeHost.byteOffset, storeHost.length).readInt32BE(
      storeHost.length - 4,
    );
  } else {
    ip = addressToBytes(storeHost.address);
    if (isV4Mapped(ip)) ip = ip.subarray(12);
    port = storeHost.port;
    if (!Number.isInteger(port) || port < 0 || port > 0xffff)
      throw new InvalidArgumentError("port out of range");
  }
  if (typeof commitLogOffset === "number" && !Number.isSafeInteger(commitLogOffset)) {
    throw new InvalidArgumentError("commitLogOffset must be a safe integer or a bigint");
  }
  const offset = BigInt(commitLogOffset);
  if (offset < -(2n ** 63n) || offset >= 2n ** 63n) {
    throw new InvalidArgumentError("commitLogOffset out of int64");
  }
  const buf = Buffer.alloc(ip.length + 12);
  buf.set(ip, 0);
  buf.writeInt32BE(port, ip.length);
  buf.writeBigInt64BE(offset, ip.length + 4);
  return bytesToHex(buf);
}

/** What {@link decodeOffsetMsgId} reads. */
export interface OffsetMsgIdInfo {
  /**
   * As Java's `getHostAddress` writes it: dotted IPv4; IPv6 as 8 hex groups without leading
   * zeros or `::`.
   */
  address: string;
  /** The store host's port. */
  port: number;
  /** Commit log offset; an offset beyond 2^53 is refused rather than rounded. */
  commitLogOffset: number;
}

/** `MessageDecoder.decodeMessageId`: 32 hex characters hold an IPv4 store host, 56 an IPv6 one. */
export function decodeOffsetMsgId(id: string): OffsetMsgIdInfo {
  const bytes = hexToBytes(id, "offset message id", [32, 56]);
  const ipLength = bytes.length === 16 ? 4 : 16;
  const offset = Number(bytes.readBigInt64BE(ipLength + 4));
  if (!Number.isSafeInteger(offset)) throw new InvalidArgumentError("commitLogOffset beyond 2^53");
  return {
    address: formatIp(bytes.subarray(0, ipLength)),
    port: bytes.readInt32BE(ipLength),
    commitLogOffset: offset,
  };
}
