import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ResponseCode as RemotingResponseCode } from "../../../src/codec/remoting-command.js";
import {
  describeResponseCode,
  parseRequestCode,
  parseResponseCode,
  RequestCode,
  type RequestCodeName,
  ResponseCode,
  type ResponseCodeName,
  requestCodeName,
  responseCodeName,
} from "../../../src/rocketmq/codes.js";

/**
 * `grep -c "public static final int"` on RocketMQ 4.9.8's
 * common/src/main/java/org/apache/rocketmq/common/protocol/RequestCode.java.
 */
const JAVA_REQUEST_CODE_COUNT = 95;
/**
 * The same count on 4.9.8's ResponseCode.java (32) plus RemotingSysResponseCode.java (5) plus
 * RocketMQ 5's GO_AWAY.
 */
const JAVA_RESPONSE_CODE_COUNT = 32 + 5 + 1;

function throwsInvalid(fn: () => unknown, mentions?: string): void {
  assert.throws(fn, (err: { code?: string; message?: string }) => {
    assert.equal(err.code, "MQW_ERR_INVALID_ARGUMENT");
    if (mentions !== undefined) assert.ok(err.message?.includes(mentions), err.message);
    return true;
  });
}

describe("RequestCode and ResponseCode", () => {
  test("RequestCode has every constant of RocketMQ 4.9.8's RequestCode.java", () => {
    assert.equal(Object.keys(RequestCode).length, JAVA_REQUEST_CODE_COUNT);
    assert.equal(RequestCode.SEND_MESSAGE, 10);
    assert.equal(RequestCode.PULL_MESSAGE, 11);
    assert.equal(RequestCode.GET_ROUTEINFO_BY_TOPIC, 105);
    assert.equal(RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, 300);
    assert.equal(RequestCode.GET_TOPICS_BY_CLUSTER, 224);
    assert.equal(RequestCode.SEND_MESSAGE_V2, 310);
    assert.equal(RequestCode.DELETE_EXPIRED_COMMITLOG, 329);
  });

  test("ResponseCode has ResponseCode.java, RemotingSysResponseCode.java and GO_AWAY", () => {
    assert.equal(Object.keys(ResponseCode).length, JAVA_RESPONSE_CODE_COUNT);
    assert.equal(ResponseCode.SUCCESS, 0);
    assert.equal(ResponseCode.TRANSACTION_FAILED, 4);
    assert.equal(ResponseCode.FLUSH_DISK_TIMEOUT, 10);
    assert.equal(ResponseCode.NO_PERMISSION, 16);
    assert.equal(ResponseCode.TOPIC_NOT_EXIST, 17);
    assert.equal(ResponseCode.TRANSACTION_STATE_UNKNOW, 202);
    assert.equal(ResponseCode.FLOW_CONTROL, 215);
    assert.equal(ResponseCode.GO_AWAY, 1500);
  });

  test("ResponseCode is a superset of the remoting layer's, with the same values", () => {
    for (const [name, code] of Object.entries(RemotingResponseCode)) {
      assert.equal(ResponseCode[name as ResponseCodeName], code, name);
    }
  });

  test("the name lookups give back every name, and undefined for codes without one", () => {
    for (const [name, code] of Object.entries(RequestCode)) assert.equal(requestCodeName(code), name);
    for (const [name, code] of Object.entries(ResponseCode)) assert.equal(responseCodeName(code), name);
    assert.equal(requestCodeName(16), undefined);
    assert.equal(requestCodeName(-1), undefined);
    assert.equal(responseCodeName(5), undefined);
    assert.equal(responseCodeName(Number.NaN), undefined);
    const typed: RequestCodeName | undefined = requestCodeName(105);
    assert.equal(typed, "GET_ROUTEINFO_BY_TOPIC");
  });

  test("describeResponseCode gives name and value, or the bare value", () => {
    assert.equal(describeResponseCode(17), "TOPIC_NOT_EXIST (17)");
    assert.equal(describeResponseCode(0), "SUCCESS (0)");
    assert.equal(describeResponseCode(12345), "12345");
  });
});

describe("parseRequestCode and parseResponseCode", () => {
  test("names in any case, and decimal integers, named or not", () => {
    assert.equal(parseRequestCode("GET_ROUTEINFO_BY_TOPIC"), 105);
    assert.equal(parseRequestCode("get_routeinfo_by_topic"), 105);
    assert.equal(parseRequestCode("Send_Message_V2"), 310);
    assert.equal(parseRequestCode("105"), 105);
    assert.equal(parseRequestCode(" 310 "), 310);
    assert.equal(parseRequestCode("0"), 0);
    assert.equal(parseRequestCode("9999"), 9999);
    assert.equal(parseRequestCode("2147483647"), 2147483647);
    assert.equal(parseResponseCode("topic_not_exist"), 17);
    assert.equal(parseResponseCode("GO_AWAY"), 1500);
    assert.equal(parseResponseCode("17"), 17);
  });

  test("every name and every int32 code parses back to itself", () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(RequestCode)), fc.boolean(), (name, lower) => {
        const text = lower ? name.toLowerCase() : name;
        assert.equal(parseRequestCode(text), RequestCode[name as RequestCodeName]);
      }),
      { seed: 42 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (code) => {
        assert.equal(parseRequestCode(`${code}`), code);
        assert.equal(parseResponseCode(`${code}`), code);
      }),
      { seed: 42 },
    );
  });

  test("anything else throws MQW_ERR_INVALID_ARGUMENT", () => {
    for (const text of [
      "",
      "  ",
      "-1",
      "1.5",
      "0x10",
      "1e3",
      "2147483648",
      "+5",
      "GET ROUTEINFO",
      "SUCCESS_",
    ]) {
      throwsInvalid(() => parseRequestCode(text));
      throwsInvalid(() => parseResponseCode(text));
    }
    throwsInvalid(() => parseRequestCode("TOPIC_NOT_EXIST"), "TOPIC_NOT_EXIST");
  });

  test("the error suggests the closest names", () => {
    throwsInvalid(() => parseRequestCode("routeinfo"), "GET_ROUTEINFO_BY_TOPIC");
    throwsInvalid(() => parseRequestCode("GET_ROUTE_INFO_BY_TOPIC"), "GET_ROUTEINFO_BY_TOPIC");
    throwsInvalid(() => parseRequestCode("send_msg_v2"), "SEND_MESSAGE_V2");
    throwsInvalid(() => parseResponseCode("topic_not_exists"), "TOPIC_NOT_EXIST");
  });
});
