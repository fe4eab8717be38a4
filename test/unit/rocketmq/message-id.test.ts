import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ErrorCodes } from "../../../src/errors.js";
import {
  addressToBytes,
  createOffsetMsgId,
  createUniqIdGenerator,
  decodeOffsetMsgId,
  formatHost,
  formatIp,
  parseUniqId,
  pickHostIp,
} from "../../../src/rocketmq/message-id.js";
import { readMessageFixture } from "../../helpers/stored-message.js";

// The fixtures were made by a JVM in UTC; the month start is local time, as Java's Calendar.
process.env.TZ = "UTC";

const INVALID = ErrorCodes.INVALID_ARGUMENT;
const DEC_2026 = Date.UTC(2026, 11, 1);

function invalid(fn: () => unknown): void {
  assert.throws(fn, (err: { code?: string }) => err.code === INVALID);
}

function fakeClock(start: number): { now(): number; set(ms: number): void } {
  let t = start;
  return { now: () => t, set: (ms) => (t = ms) };
}

describe("UNIQ_KEY (MessageClientIDSetter)", () => {
  test("parseUniqId reads the ids the Java producer made in the fixtures", () => {
    const { consumed } = readMessageFixture("mixed");
    const withIds = consumed.filter((m) => m.properties.UNIQ_KEY !== undefined);
    assert.equal(withIds.length, 5);
    for (const m of withIds) {
      const info = parseUniqId(m.msgId, m.storeTimestamp);
      assert.equal(info.ip, "192.0.2.2");
      // createUniqID runs just before the producer stamps bornTimestamp.
      assert.ok(info.timestamp <= m.bornTimestamp && info.timestamp > m.bornTimestamp - 1000, m.msgId);
    }
    assert.deepEqual(
      withIds.slice(0, 2).map((m) => parseUniqId(m.msgId, m.storeTimestamp).counter),
      [0, 1],
    );
    assert.equal(parseUniqId("C000020225BA5FFD2B271AFE75540000", DEC_2026 + 10 * 86_400_000).pid, 0x25ba);
  });

  test("the generator reproduces Java's ids from the same IP, pid, tag, clock and counter", () => {
    const clock = fakeClock(DEC_2026 + 0x1afe7554);
    const ids = createUniqIdGenerator({ clock, ip: "192.0.2.2", pid: 0x25ba, instanceTag: 0x5ffd2b27 });
    assert.equal(ids.next(), "C000020225BA5FFD2B271AFE75540000");
    clock.set(DEC_2026 + 0x1afe75a4);
    assert.equal(ids.next(), "C000020225BA5FFD2B271AFE75A40001");
  });

  test("32 upper-case hex characters; pid keeps its low 16 bits; the counter wraps at 16 bits", () => {
    const clock = fakeClock(DEC_2026 + 1);
    const ids = createUniqIdGenerator({
      clock,
      ip: Uint8Array.of(10, 0, 0, 1),
      pid: 0x12345,
      instanceTag: 0xabcdef01,
      counterStart: 0xffff,
    });
    assert.equal(ids.next(), "0A0000012345ABCDEF0100000001FFFF");
    assert.equal(ids.next(), "0A0000012345ABCDEF01000000010000");
    assert.match(createUniqIdGenerator().next(), /^[0-9A-F]{32}$/);
  });

  test("the month start is recomputed at the boundary, forward only; a small step back writes 0", () => {
    const clock = fakeClock(Date.UTC(2026, 10, 30, 23, 59, 59, 999));
    const ids = createUniqIdGenerator({ clock, ip: "1.2.3.4", pid: 1, instanceTag: 0 });
    const nov = parseInt(ids.next().slice(20, 28), 16);
    assert.equal(nov, 30 * 86_400_000 - 1);
    clock.set(DEC_2026 + 5);
    assert.equal(ids.next().slice(20, 28), "00000005");
    clock.set(DEC_2026 - 500); // NTP stepped back into November: Java writes 0
    assert.equal(ids.next().slice(20, 28), "00000000");
    clock.set(DEC_2026 - 2_000_000); // further back: the negative int, as Java's (int) cast
    assert.equal(ids.next().slice(20, 28), (-2_000_000 >>> 0).toString(16).toUpperCase());
  });

  test("past 2^31 ms in the month (day 25) the time is written as its 32 bits", () => {
    const clock = fakeClock(DEC_2026 + 2 ** 31 + 7);
    const id = createUniqIdGenerator({ clock, ip: "1.2.3.4", pid: 1, instanceTag: 0 }).next();
    assert.equal(id.slice(20, 28), "80000007");
    assert.equal(parseUniqId(id, DEC_2026 + 2 ** 31 + 1000).timestamp, DEC_2026 + 2 ** 31 + 7);
  });

  test("an IPv6 host gives 56 characters; parseUniqId prints it as ipToIPv6Str does", () => {
    const clock = fakeClock(DEC_2026 + 9);
    const id = createUniqIdGenerator({ clock, ip: "2001:db8::7", pid: 2, instanceTag: 3 }).next();
    assert.equal(id.length, 56);
    const info = parseUniqId(id, DEC_2026 + 10);
    assert.deepEqual(info, {
      ip: "2001:0db8:0000:0000:0000:0000:0000:0007",
      pid: 2,
      timestamp: DEC_2026 + 9,
      counter: 0,
    });
  });

  test("getNearlyTimeFromID: a time not before now belongs to the previous month", () => {
    const id = createUniqIdGenerator({
      clock: fakeClock(DEC_2026 + 86_400_000),
      ip: "1.2.3.4",
      pid: 1,
      instanceTag: 0,
    }).next();
    // Read on Dec 1 at 00:00:01: one day into the month is the future, so it is Nov 2.
    assert.equal(parseUniqId(id, DEC_2026 + 1000).timestamp, Date.UTC(2026, 10, 2));
  });

  test("parseUniqId refuses what is not 32 or 56 hex characters", () => {
    for (const id of ["", "ABC", "G".repeat(32), "0".repeat(31), "0".repeat(57)])
      invalid(() => parseUniqId(id));
    assert.equal(parseUniqId("c000020225ba5ffd2b271afe75540000", DEC_2026 + 10 * 86_400_000).ip, "192.0.2.2");
  });

  test("pickHostIp: a public IPv4 first, else an RFC 1918 one, else 127.0.0.1; loopback and IPv6 skipped", () => {
    const iface = (address: string, family: "IPv4" | "IPv6", internal = false) =>
      ({ address, family, internal, netmask: "", mac: "", cidr: null }) as never;
    assert.deepEqual(
      [
        ...pickHostIp({
          lo: [iface("127.0.0.1", "IPv4", true)],
          eth0: [iface("fe80::1", "IPv6"), iface("10.1.2.3", "IPv4")],
          eth1: [iface("192.0.2.2", "IPv4")],
        }),
      ],
      [192, 0, 2, 2],
    );
    assert.deepEqual(
      [...pickHostIp({ eth0: [iface("172.16.0.9", "IPv4")], eth1: [iface("192.168.1.1", "IPv4")] })],
      [172, 16, 0, 9],
    );
    assert.deepEqual([...pickHostIp({ lo: [iface("127.0.0.1", "IPv4", true)] })], [127, 0, 0, 1]);
    assert.deepEqual([...pickHostIp({})], [127, 0, 0, 1]);
  });

  test("invalid options are refused", () => {
    invalid(() => createUniqIdGenerator({ ip: "not-an-ip" }));
    invalid(() => createUniqIdGenerator({ ip: new Uint8Array(5) }));
    invalid(() => createUniqIdGenerator({ pid: -1 }));
    invalid(() => createUniqIdGenerator({ instanceTag: 1.5 }));
  });
});

describe("offset message id (MessageDecoder.createMessageId / decodeMessageId)", () => {
  test("equals the broker's ids in the fixtures", () => {
    const { consumed } = readMessageFixture("mixed");
    for (const m of consumed) {
      const [address, port] = m.storeHost.split(":") as [string, string];
      assert.equal(createOffsetMsgId({ address, port: Number(port) }, m.commitLogOffset), m.offsetMsgId);
      assert.deepEqual(decodeOffsetMsgId(m.offsetMsgId), {
        address,
        port: Number(port),
        commitLogOffset: m.commitLogOffset,
      });
    }
    assert.equal(
      createOffsetMsgId({ address: "127.0.0.1", port: 30911 }, 0),
      "7F000001000078BF0000000000000000",
    );
  });

  test("IPv6: 56 characters; stored host bytes; IPv4-mapped addresses become IPv4 as in Java", () => {
    const id = createOffsetMsgId({ address: "::1", port: 10911 }, 5n);
    // address ::1, port 10911, offset 5
    assert.equal(id, `${"0".repeat(31)}1${"00002A9F"}${"0000000000000005"}`);
    assert.deepEqual(decodeOffsetMsgId(id), { address: "0:0:0:0:0:0:0:1", port: 10911, commitLogOffset: 5 });
    const stored = Buffer.from("7f000001000062c9", "hex");
    assert.equal(createOffsetMsgId(stored, 128), "7F000001000062C90000000000000080");
    assert.equal(
      createOffsetMsgId({ address: "::ffff:127.0.0.1", port: 25289 }, 128),
      "7F000001000062C90000000000000080",
    );
    assert.equal(
      createOffsetMsgId(Buffer.concat([addressToBytes("2001:db8::7"), Buffer.from("00000001", "hex")]), 1)
        .length,
      56,
    );
  });

  test("refuses bad hosts, ports, offsets and ids", () => {
    invalid(() => createOffsetMsgId({ address: "host.example", port: 1 }, 0));
    invalid(() => createOffsetMsgId({ address: "1.2.3.4", port: 65536 }, 0));
    invalid(() => createOffsetMsgId(new Uint8Array(9), 0));
    invalid(() => createOffsetMsgId({ address: "1.2.3.4", port: 1 }, 2n ** 63n));
    invalid(() => createOffsetMsgId({ address: "1.2.3.4", port: 1 }, 1.5));
    invalid(() => decodeOffsetMsgId("7F00000100"));
    invalid(() => decodeOffsetMsgId(`7F000001000062C9${"7FFFFFFFFFFFFFFF"}`));
  });

  test("round trip over random IPv4 hosts, ports and offsets (fast-check)", () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 65535 }), fc.maxSafeNat(), (address, port, offset) => {
        const id = createOffsetMsgId({ address, port }, offset);
        assert.match(id, /^[0-9A-F]{32}$/);
        assert.deepEqual(decodeOffsetMsgId(id), { address, port, commitLogOffset: offset });
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe("addresses", () => {
  test("addressToBytes: IPv4, IPv6 with ::, embedded IPv4, brackets, zone ids", () => {
    assert.deepEqual([...addressToBytes("1.2.3.4")], [1, 2, 3, 4]);
    assert.equal(
      Buffer.from(addressToBytes("2001:db8::7")).toString("hex"),
      "20010db8000000000000000000000007",
    );
    assert.equal(Buffer.from(addressToBytes("::")).toString("hex"), "0".repeat(32));
    assert.equal(
      Buffer.from(addressToBytes("::ffff:1.2.3.4")).toString("hex"),
      "00000000000000000000ffff01020304",
    );
    assert.equal(
      Buffer.from(addressToBytes("[fe80::1%eth0]")).toString("hex"),
      "fe800000000000000000000000000001",
    );
    assert.equal(
      Buffer.from(addressToBytes("1:2:3:4:5:6:7:8")).toString("hex"),
      "00010002000300040005000600070008",
    );
    invalid(() => addressToBytes("1.2.3"));
    invalid(() => addressToBytes("::g"));
  });

  test("formatIp / formatHost use Java's getHostAddress forms", () => {
    assert.equal(formatIp(Uint8Array.of(127, 0, 0, 1)), "127.0.0.1");
    assert.equal(formatIp(addressToBytes("2001:db8::7")), "2001:db8:0:0:0:0:0:7");
    assert.equal(formatIp(addressToBytes("::ffff:10.0.0.1")), "10.0.0.1");
    assert.equal(formatHost(addressToBytes("::1"), 80), "[0:0:0:0:0:0:0:1]:80");
    assert.equal(formatHost(Uint8Array.of(10, 0, 0, 1), 80), "10.0.0.1:80");
  });
});
