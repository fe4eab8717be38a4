/**
 * The server-side ACL check against signatures computed outside this code: the reference's §12
 * vectors and, for the SecurityToken and _UNIQUE_KEY_QUERY cases, `openssl dgst -sha1 -hmac
 * 12345678 -binary | base64` over the content RocketMQ builds (values sorted by key, then the body).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RemotingCommand, ResponseCode } from "../../src/codec/remoting-command.js";
import { AbortProcessError, ErrorCodes, isMqwireError } from "../../src/errors.js";
import { silentLogger } from "../../src/logger.js";
import { createAclSigningHook } from "../../src/remoting/acl-hook.js";
import { checkAclSignature, createAclVerifyingHook } from "../../src/remoting/acl-verify.js";

const SECRET = "12345678";
const secretOf = (key: string): string | undefined => (key === "rocketmq2" ? SECRET : undefined);
/** §12: content "rocketmq2TopicTest". */
const SIG_PLAIN = "GeeGoP9mRvDhoVp4PD5omX0prgE=";
/** §12: content "rocketmq2TopicTest" + body "hello". */
const SIG_BODY = "VCoakk8D+zaEPRCyxQHvWUF4988=";
/** openssl: "rocketmq2" + "tok-1" + "TopicTest" (AccessKey < SecurityToken < topic). */
const SIG_TOKEN = "Ivt3A4G7AMAKml7S/OTkucdjopw=";
/** openssl: "rocketmq2" + "true" + "TopicTest" (AccessKey < _UNIQUE_KEY_QUERY < topic). */
const SIG_QUERY_FLAG = "EvCVn1/pIhQGNcZnAZsj264sC2k=";

const req = (ext: Record<string, string> | null, init: { body?: Buffer; version?: number } = {}) =>
  RemotingCommand.createRequest(10, { extFields: ext, ...init });

describe("checkAclSignature", () => {
  test("the reference's vectors pass, with and without a body", () => {
    assert.equal(
      checkAclSignature(req({ AccessKey: "rocketmq2", topic: "TopicTest", Signature: SIG_PLAIN }), secretOf),
      undefined,
    );
    const withBody = req(
      { topic: "TopicTest", Signature: SIG_BODY, AccessKey: "rocketmq2" },
      { body: Buffer.from("hello") },
    );
    assert.equal(checkAclSignature(withBody, secretOf), undefined);
  });

  test("a changed value, body or signature fails with PlainPermissionManager's reason", () => {
    const failed = "Check signature failed for accessKey=rocketmq2";
    const cases = [
      req({ AccessKey: "rocketmq2", topic: "TopicTesT", Signature: SIG_PLAIN }),
      req({ AccessKey: "rocketmq2", topic: "TopicTest", Signature: SIG_PLAIN }, { body: Buffer.from("x") }),
      req({ AccessKey: "rocketmq2", topic: "TopicTest", Signature: SIG_BODY }),
      req({ AccessKey: "rocketmq2", topic: "TopicTest", Signature: "" }),
      req({ AccessKey: "rocketmq2", topic: "TopicTest" }),
      req({ AccessKey: "rocketmq2", topic: "TopicTest", extra: "1", Signature: SIG_PLAIN }),
    ];
    for (const request of cases) assert.equal(checkAclSignature(request, secretOf), failed);
  });

  test("no AccessKey (or no extFields at all), and an unknown one", () => {
    assert.equal(checkAclSignature(req(null), secretOf), "No accessKey is configured");
    assert.equal(
      checkAclSignature(req({ topic: "TopicTest", Signature: SIG_PLAIN }), secretOf),
      "No accessKey is configured",
    );
    assert.equal(
      checkAclSignature(req({ AccessKey: "nobody", topic: "TopicTest", Signature: SIG_PLAIN }), secretOf),
      "No acl config for nobody",
    );
  });

  test("a SecurityToken is covered by the signature (Java signs it; the Go client does not)", () => {
    const ext = { AccessKey: "rocketmq2", SecurityToken: "tok-1", topic: "TopicTest", Signature: SIG_TOKEN };
    assert.equal(checkAclSignature(req(ext), secretOf), undefined);
    assert.match(
      checkAclSignature(req({ ...ext, SecurityToken: "tok-2" }), secretOf) ?? "",
      /Check signature failed/,
    );
    // Signed without the token (Go's way), sent with it: refused.
    assert.match(
      checkAclSignature(req({ ...ext, Signature: SIG_PLAIN }), secretOf) ?? "",
      /Check signature failed/,
    );
  });

  test("_UNIQUE_KEY_QUERY is left out of the content only for requests of version <= 399", () => {
    const ext = { AccessKey: "rocketmq2", _UNIQUE_KEY_QUERY: "true", topic: "TopicTest" };
    for (const version of [0, 399]) {
      assert.equal(
        checkAclSignature(req({ ...ext, Signature: SIG_PLAIN }, { version }), secretOf),
        undefined,
      );
      assert.notEqual(
        checkAclSignature(req({ ...ext, Signature: SIG_QUERY_FLAG }, { version }), secretOf),
        undefined,
      );
    }
    assert.equal(
      checkAclSignature(req({ ...ext, Signature: SIG_QUERY_FLAG }, { version: 400 }), secretOf),
      undefined,
    );
    assert.notEqual(
      checkAclSignature(req({ ...ext, Signature: SIG_PLAIN }, { version: 400 }), secretOf),
      undefined,
    );
  });

  test("whatever the signing hook signs, the check accepts", () => {
    const signer = createAclSigningHook({ accessKey: "rocketmq2", secretKey: SECRET, securityToken: "t" });
    const requests = [
      req(null),
      req({ topic: "TopicTest", ünï: "çödé 🚀", a: "", Z: "z" }, { body: Buffer.from([0, 1, 2, 255]) }),
      req({ _UNIQUE_KEY_QUERY: "false" }, { version: 500 }),
    ];
    for (const request of requests) {
      signer.doBeforeRequest("peer", request);
      assert.equal(checkAclSignature(request, secretOf), undefined);
    }
  });
});

describe("createAclVerifyingHook", () => {
  test("refuses with AbortProcessError(NO_PERMISSION, reason) and logs the reason", () => {
    const warnings: string[] = [];
    const hook = createAclVerifyingHook({
      accounts: [{ accessKey: "rocketmq2", secretKey: SECRET }],
      logger: { ...silentLogger, warn: (m: string) => void warnings.push(m) },
    });
    assert.equal(
      hook.doBeforeRequest(
        "1.2.3.4:5",
        req({ AccessKey: "rocketmq2", topic: "TopicTest", Signature: SIG_PLAIN }),
      ),
      undefined,
    );
    const bad = req({ AccessKey: "rocketmq2", topic: "TopicTest", Signature: SIG_BODY });
    assert.throws(
      () => hook.doBeforeRequest("1.2.3.4:5", bad),
      (err) =>
        err instanceof AbortProcessError &&
        err.responseCode === ResponseCode.NO_PERMISSION &&
        err.errorMessage === "Check signature failed for accessKey=rocketmq2",
    );
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^1\.2\.3\.4:5: .*code 10.*Check signature failed for accessKey=rocketmq2$/);
  });

  test("bad accounts are an InvalidArgumentError", () => {
    const bad: unknown[] = [
      undefined,
      [],
      [{ accessKey: "", secretKey: "s" }],
      [{ accessKey: "a", secretKey: "" }],
      [{ accessKey: "a", secretKey: 1 }],
      [null],
      [
        { accessKey: "a", secretKey: "s" },
        { accessKey: "a", secretKey: "t" },
      ],
    ];
    for (const accounts of bad) {
      assert.throws(
        () => createAclVerifyingHook({ accounts: accounts as never }),
        (err) => isMqwireError(err, ErrorCodes.INVALID_ARGUMENT),
        JSON.stringify(accounts),
      );
    }
  });
});
