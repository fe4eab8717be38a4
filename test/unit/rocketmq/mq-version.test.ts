/** MQVersion.getVersionDesc: ordinals pinned across the enum's irregular stretches. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { mqVersionName } from "../../../src/index.js";
import { MQ_VERSION_COUNT } from "../../../src/rocketmq/mq-version.js";

test("ordinals name MQVersion.Version's constants, as at apache/rocketmq 8fc57f1", () => {
  // Ordinals counted in MQVersion.java at that commit.
  const pinned: [number, string][] = [
    [0, "V3_0_0_SNAPSHOT"],
    [1, "V3_0_0_ALPHA1"],
    [6, "V3_0_0_BETA5"],
    [7, "V3_0_0_BETA6_SNAPSHOT"],
    [15, "V3_0_0_FINAL"],
    [16, "V3_0_1_SNAPSHOT"],
    [45, "V3_0_15"],
    [46, "V3_1_0_SNAPSHOT"],
    [85, "V3_2_9"],
    [86, "V3_3_1_SNAPSHOT"], // 3.3 to 3.9 have no x.y.0
    [401, "V4_9_4"], // mqwire's STANDARD_JSON_MIN_VERSION
    [409, "V4_9_8"], // DEFAULT_CLIENT_VERSION
    [413, "V5_0_0"],
    [475, "V5_3_1"], // GO_AWAY_MIN_VERSION - 1
    [479, "V5_3_3"],
    [611, "V5_9_9"],
  ];
  for (const [ordinal, name] of pinned) assert.equal(mqVersionName(ordinal), name, `ordinal ${ordinal}`);
  assert.equal(MQ_VERSION_COUNT, 612);
});

test("past the last ordinal Java names the last version; a negative one stays a number", () => {
  assert.equal(mqVersionName(612), "V5_9_9");
  assert.equal(mqVersionName(2 ** 31 - 1), "V5_9_9");
  assert.equal(mqVersionName(-1), "-1");
});
