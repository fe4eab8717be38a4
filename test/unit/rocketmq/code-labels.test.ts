/**
 * The request_code / response_code labels: RocketMQ 5's names (RemotingHelper's lower-case
 * maps) over 4.9.8's, else the number.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { RequestCode, ResponseCode, requestCodeLabel, responseCodeLabel } from "../../../src/index.js";

/** `grep -c "public static final int"` on RequestCode.java at apache/rocketmq 8fc57f1. */
const ROCKETMQ5_INT_REQUEST_CODES = 153;

test("every 4.9.8 request and response code keeps its lower-case name as label", () => {
  for (const [name, code] of Object.entries(RequestCode))
    assert.equal(requestCodeLabel(code), name.toLowerCase());
  for (const [name, code] of Object.entries(ResponseCode)) {
    // 209-211: RocketMQ 5's names win (below).
    if (code < 209 || code > 211) assert.equal(responseCodeLabel(code), name.toLowerCase());
  }
});

test("RocketMQ 5.x codes get their 5.x names", () => {
  assert.equal(requestCodeLabel(200050), "pop_message");
  assert.equal(requestCodeLabel(200051), "ack_message");
  assert.equal(requestCodeLabel(200151), "batch_ack_message");
  assert.equal(requestCodeLabel(361), "lite_pull_message");
  assert.equal(requestCodeLabel(1013), "controller_apply_broker_id");
  assert.equal(requestCodeLabel(3010), "auth_list_acl");
  assert.equal(responseCodeLabel(29), "invalid_parameter");
  assert.equal(responseCodeLabel(209), "polling_full");
  assert.equal(responseCodeLabel(211), "broker_not_exist");
  assert.equal(responseCodeLabel(-1006), "rpc_time_out");
  assert.equal(responseCodeLabel(3002), "policy_not_exist");
});

test("codes without a name are labelled with the number", () => {
  assert.equal(requestCodeLabel(12345), "12345");
  // RequestCode.java's short constants are not in RemotingHelper's map either.
  assert.equal(requestCodeLabel(1014), "1014");
  assert.equal(responseCodeLabel(5), "5");
  assert.equal(responseCodeLabel(-7), "-7");
});

test("the label table covers RocketMQ 5's request codes", () => {
  // 4.9.8's 95 codes, 4 of them (ACL 1.0: 50-53) gone from 5.x, plus the 62 it added.
  const labelled = new Set<string>();
  for (let code = -2000; code < 4000; code++) labelled.add(requestCodeLabel(code));
  for (let code = 200_000; code < 200_200; code++) labelled.add(requestCodeLabel(code));
  const named = [...labelled].filter((l) => !/^-?\d+$/.test(l));
  assert.equal(named.length, ROCKETMQ5_INT_REQUEST_CODES + 4);
});
