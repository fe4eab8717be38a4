/**
 * `mqwire call` speaks RocketMQ's names: request codes by name (any case), the response code's
 * name beside its number, and JSON bodies (fastjson's dialect, with unquoted integer keys, as
 * every GET_BROKER_CLUSTER_INFO answer has) printed parsed, so no unquoted key reaches the user.
 * The CLI runs as a child process against an in-process server on a real loopback socket.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { RemotingCommand, RemotingServer, RequestCode, ResponseCode } from "../../src/index.js";
import { mqwire } from "../helpers/cli.js";

const run = (args: string[]) => mqwire(args, "", 20_000);

/** An integer (or other bare) key in object-key position: what fastjson writes and JSON forbids. */
const UNQUOTED_KEY = /[{,]\s*-?\d+\s*:/;

// GET_ROUTEINFO_BY_TOPIC as a 4.9.8 name server answers a client below version 401.
const ROUTE_BODY =
  '{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:1",1:"127.0.0.1:2"},"brokerName":"broker-a","cluster":"C"}],' +
  '"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}';

describe("mqwire call with RocketMQ code names", () => {
  const server = new RemotingServer({ listen: ["127.0.0.1:0"] });
  /** Every request the server got, in order: code and topic extField. */
  const seen: { code: number; topic: string | undefined }[] = [];
  let addr: string;

  const reply = (
    request: RemotingCommand,
    code: number,
    body: Uint8Array | null,
    remark: string | null = null,
  ) => {
    seen.push({ code: request.code, topic: request.extFields?.get("topic") });
    const response = RemotingCommand.createResponse(code, remark);
    response.opaque = request.opaque;
    response.body = body === null ? null : Buffer.from(body);
    return response;
  };

  before(async () => {
    server.registerProcessor(RequestCode.GET_ROUTEINFO_BY_TOPIC, (request) => {
      const topic = request.extFields?.get("topic");
      if (topic === "NoSuchTopic") {
        return reply(
          request,
          ResponseCode.TOPIC_NOT_EXIST,
          null,
          "No topic route info in name server for the topic: NoSuchTopic",
        );
      }
      return reply(request, ResponseCode.SUCCESS, Buffer.from(ROUTE_BODY));
    });
    // Text that happens to be a JSON scalar, and bytes that are not UTF-8: neither is parsed.
    server.registerProcessor(RequestCode.GET_KV_CONFIG, (request) =>
      reply(request, ResponseCode.SUCCESS, Buffer.from("42")),
    );
    server.registerProcessor(RequestCode.GET_BROKER_CONFIG, (request) =>
      reply(request, ResponseCode.SUCCESS, Uint8Array.of(0xff, 0xfe, 0x00, 0x7b)),
    );
    // A code RocketMQ's ResponseCode does not name.
    server.registerProcessor(4242, (request) => reply(request, 777, Buffer.from("{broken json")));
    await server.start();
    addr = server.addresses[0]!;
  });
  after(() => server.shutdown({ graceMs: 1000 }));

  test('--code GET_ROUTEINFO_BY_TOPIC sends 105; the dialect body comes out parsed, key "0"', async () => {
    const before = seen.length;
    const r = await run(["call", addr, "--code", "GET_ROUTEINFO_BY_TOPIC", "--ext", "topic=T1"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(seen.slice(before), [{ code: 105, topic: "T1" }]);
    assert.doesNotMatch(r.stdout, UNQUOTED_KEY);
    const out = JSON.parse(r.stdout);
    assert.equal(out.code, 0);
    assert.equal(out.codeName, "SUCCESS");
    assert.equal(out.bodyEncoding, "json");
    assert.equal(out.body, undefined);
    assert.deepEqual(out.bodyJson.brokerDatas[0].brokerAddrs, { "0": "127.0.0.1:1", "1": "127.0.0.1:2" });
    assert.equal(out.bodyJson.queueDatas[0].writeQueueNums, 4);
    assert.equal(r.stdout.trim().split("\n").length, 1, "one line without --pretty");
  });

  test("names are case-insensitive; numbers still work; --pretty indents the same value", async () => {
    const before = seen.length;
    const lower = await run([
      "call",
      addr,
      "--code",
      "get_routeinfo_by_topic",
      "--ext",
      "topic=T2",
      "--pretty",
    ]);
    const number = await run(["call", addr, "--code", "105", "--ext", "topic=T2"]);
    assert.equal(lower.code, 0, lower.stderr);
    assert.equal(number.code, 0, number.stderr);
    assert.deepEqual(seen.slice(before), [
      { code: 105, topic: "T2" },
      { code: 105, topic: "T2" },
    ]);
    assert.ok(lower.stdout.trim().split("\n").length > 10, "indented over many lines");
    assert.match(lower.stdout, /^ {2}"codeName": "SUCCESS",$/m);
    const { opaque: _a, ...pretty } = JSON.parse(lower.stdout);
    const { opaque: _b, ...plain } = JSON.parse(number.stdout);
    assert.deepEqual(pretty, plain);
  });

  test("--raw-body prints the body as received", async () => {
    const r = await run([
      "call",
      addr,
      "--code",
      "GET_ROUTEINFO_BY_TOPIC",
      "--ext",
      "topic=T3",
      "--raw-body",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.bodyEncoding, "utf8");
    assert.equal(out.body, ROUTE_BODY);
    assert.equal(out.bodyJson, undefined);
  });

  test("an error response prints its code's name and exits 0 (call prints any reply)", async () => {
    const r = await run(["call", addr, "--code", "GET_ROUTEINFO_BY_TOPIC", "--ext", "topic=NoSuchTopic"]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.code, 17);
    assert.equal(out.codeName, "TOPIC_NOT_EXIST");
    assert.match(out.remark, /NoSuchTopic/);
    assert.equal(out.body, null);
    assert.equal(out.bodyEncoding, undefined);
  });

  test("a JSON scalar stays text, bytes that are not UTF-8 are base64, bad JSON stays text", async () => {
    const scalar = JSON.parse((await run(["call", addr, "--code", "GET_KV_CONFIG"])).stdout);
    assert.deepEqual([scalar.body, scalar.bodyEncoding, scalar.bodyJson], ["42", "utf8", undefined]);
    const binary = JSON.parse((await run(["call", addr, "--code", "get_broker_config"])).stdout);
    assert.deepEqual(
      [binary.body, binary.bodyEncoding],
      [Buffer.from([0xff, 0xfe, 0x00, 0x7b]).toString("base64"), "base64"],
    );
    const unnamed = JSON.parse((await run(["call", addr, "--code", "4242"])).stdout);
    assert.deepEqual([unnamed.code, unnamed.codeName], [777, null]);
    assert.deepEqual([unnamed.body, unnamed.bodyEncoding], ["{broken json", "utf8"]);
  });

  test("an unknown code name exits 2 with a suggestion and sends nothing", async () => {
    const before = seen.length;
    const r = await run(["call", addr, "--code", "GET_ROUTE_INFO"]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /unknown request code "GET_ROUTE_INFO"/);
    assert.match(r.stderr, /did you mean GET_ROUTEINFO_BY_TOPIC/);
    assert.equal(seen.length, before);
  });

  test("other bad usage exits 2 too: no --code, --ext without '='", async () => {
    const noCode = await run(["call", addr]);
    assert.equal(noCode.code, 2);
    assert.match(noCode.stderr, /--code/);
    const badExt = await run(["call", addr, "--code", "105", "--ext", "topic"]);
    assert.equal(badExt.code, 2);
    assert.match(badExt.stderr, /key=value/);
  });
});
