import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ErrorCodes } from "../../src/errors.js";
import { formatAddress, parseAddress } from "../../src/transport/address.js";

describe("parseAddress", () => {
  test("host:port", () => {
    assert.deepEqual(parseAddress("127.0.0.1:9876"), { kind: "tcp", host: "127.0.0.1", port: 9876 });
    assert.deepEqual(parseAddress("broker-a.example:10911"), {
      kind: "tcp",
      host: "broker-a.example",
      port: 10911,
    });
    assert.deepEqual(parseAddress("localhost:0"), { kind: "tcp", host: "localhost", port: 0 });
    assert.deepEqual(parseAddress("h:65535"), { kind: "tcp", host: "h", port: 65535 });
  });

  test("splits at the last ':' like RocketMQ RemotingHelper", () => {
    assert.deepEqual(parseAddress("::1:9876"), { kind: "tcp", host: "::1", port: 9876 });
    assert.deepEqual(parseAddress("fe80::1:2:80"), { kind: "tcp", host: "fe80::1:2", port: 80 });
  });

  test("bracketed IPv6: brackets stripped for node:net", () => {
    assert.deepEqual(parseAddress("[::1]:9876"), { kind: "tcp", host: "::1", port: 9876 });
    assert.deepEqual(parseAddress("[2001:db8::7]:1"), { kind: "tcp", host: "2001:db8::7", port: 1 });
  });

  test("unix paths", () => {
    assert.deepEqual(parseAddress("unix:/tmp/mq.sock"), { kind: "unix", path: "/tmp/mq.sock" });
    assert.deepEqual(parseAddress("/tmp/mq.sock"), { kind: "unix", path: "/tmp/mq.sock" });
    assert.deepEqual(parseAddress("./rel/mq.sock"), { kind: "unix", path: "./rel/mq.sock" });
    assert.deepEqual(parseAddress("unix:relative.sock"), { kind: "unix", path: "relative.sock" });
    // A ':' inside a path that does not end in a port keeps it a path.
    assert.deepEqual(parseAddress("/tmp/a:b/mq.sock"), { kind: "unix", path: "/tmp/a:b/mq.sock" });
  });

  test("memory names", () => {
    assert.deepEqual(parseAddress("memory://broker"), { kind: "memory", name: "broker" });
    assert.deepEqual(parseAddress("memory://a:1"), { kind: "memory", name: "a:1" });
  });

  test("invalid addresses throw MQW_ERR_INVALID_ARGUMENT", () => {
    const bad = [
      "",
      "host",
      "host:",
      ":9876",
      "host:65536",
      "host:99999",
      "host:-1",
      "host:12a",
      "host:1.5",
      "[::1:9876",
      "[]:1",
      "a b:1",
      "host/x:80",
      "unix:",
      "memory://",
      "host:123456",
    ];
    for (const addr of bad) {
      assert.throws(
        () => parseAddress(addr),
        (err: unknown) => (err as { code?: string }).code === ErrorCodes.INVALID_ARGUMENT,
        addr,
      );
    }
    assert.throws(() => parseAddress(42 as unknown as string), { code: ErrorCodes.INVALID_ARGUMENT });
  });
});

describe("formatAddress", () => {
  test("re-adds brackets for IPv6 and round-trips", () => {
    assert.equal(formatAddress("::1", 9876), "[::1]:9876");
    assert.equal(formatAddress("127.0.0.1", 1), "127.0.0.1:1");
    const parsed = parseAddress("[::1]:9876");
    assert.ok(parsed.kind === "tcp");
    assert.equal(formatAddress(parsed.host, parsed.port), "[::1]:9876");
  });
});
