import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, test } from "node:test";
import { RemotingCommand } from "../../src/codec/remoting-command.js";
import { AbortProcessError, ErrorCodes, isMqwireError, MqwireError } from "../../src/errors.js";
import { computeAclSignature, createAclSigningHook } from "../../src/remoting/acl-hook.js";
import {
  isPromiseLike,
  type RequestContext,
  RequestPipeline,
  type RpcHook,
  runAfterHooks,
  runBeforeHooks,
} from "../../src/remoting/hooks.js";

const ADDR = "127.0.0.1:10911";
const ctx: RequestContext = { remoteAddress: ADDR, localAddress: "127.0.0.1:9876" };
const request = (): RemotingCommand => RemotingCommand.createRequest(10, { opaque: 1 });

/** A hook that logs its calls under `name` and does what `behaviour` says. */
function hook(
  log: string[],
  name: string,
  behaviour: (phase: "before" | "after") => void | Promise<void> = () => {},
): RpcHook {
  return {
    doBeforeRequest: () => {
      log.push(`${name}:before`);
      return behaviour("before");
    },
    doAfterResponse: (_addr, _req, response) => {
      log.push(`${name}:after:${response === null ? "null" : response.code}`);
      return behaviour("after");
    },
  };
}

describe("runBeforeHooks / runAfterHooks", () => {
  test("no hooks and synchronous hooks return undefined, not a promise", () => {
    const log: string[] = [];
    assert.equal(runBeforeHooks([], ADDR, request()), undefined);
    const hooks = [hook(log, "a"), hook(log, "b")];
    assert.equal(runBeforeHooks(hooks, ADDR, request()), undefined);
    assert.equal(runAfterHooks(hooks, ADDR, request(), RemotingCommand.createResponse(0)), undefined);
    assert.equal(runAfterHooks(hooks, ADDR, request(), null), undefined);
    assert.deepEqual(log, ["a:before", "b:before", "a:after:0", "b:after:0", "a:after:null", "b:after:null"]);
  });

  test("an ordinary error is returned and stops the remaining hooks", () => {
    const log: string[] = [];
    const boom = new Error("boom");
    const hooks = [
      hook(log, "a"),
      hook(log, "b", () => {
        throw boom;
      }),
      hook(log, "c"),
    ];
    assert.equal(runBeforeHooks(hooks, ADDR, request()), boom);
    assert.equal(runAfterHooks(hooks, ADDR, request(), null), boom);
    assert.deepEqual(log, ["a:before", "b:before", "a:after:null", "b:after:null"]);
  });

  test("a thrown non-Error is wrapped, keeping it as the cause", () => {
    const outcome = runBeforeHooks(
      [
        hook([], "a", () => {
          throw "text";
        }),
      ],
      ADDR,
      request(),
    );
    assert.ok(outcome instanceof Error);
    assert.equal(outcome.cause, "text");
  });

  test("an AbortProcessError stops the hooks and is returned, not thrown", () => {
    const log: string[] = [];
    const abort = new AbortProcessError(16, "no permission");
    const hooks = [
      hook(log, "a", () => {
        throw abort;
      }),
      hook(log, "b"),
    ];
    assert.equal(runBeforeHooks(hooks, ADDR, request()), abort);
    assert.equal(runAfterHooks(hooks, ADDR, request(), null), abort);
    assert.deepEqual(log, ["a:before", "a:after:null"]);
  });

  test("an async hook makes the outcome a promise and keeps the order", async () => {
    const log: string[] = [];
    const hooks = [
      hook(log, "a"),
      hook(log, "b", async () => {
        await new Promise((resolve) => setImmediate(resolve));
        log.push("b:done");
      }),
      hook(log, "c"),
    ];
    const outcome = runBeforeHooks(hooks, ADDR, request());
    assert.ok(isPromiseLike(outcome));
    assert.deepEqual(log, ["a:before", "b:before"]);
    assert.equal(await outcome, undefined);
    assert.deepEqual(log, ["a:before", "b:before", "b:done", "c:before"]);
  });

  test("after an async hook, failures keep the same policy", async () => {
    const log: string[] = [];
    const boom = new Error("boom");
    const abort = new AbortProcessError("denied");
    const rejecting = [hook(log, "a", () => Promise.reject(boom)), hook(log, "b")];
    assert.equal(await runBeforeHooks(rejecting, ADDR, request()), boom);
    const asyncThenThrow = [
      hook(log, "c", () => Promise.resolve()),
      hook(log, "d", () => {
        throw boom;
      }),
      hook(log, "e"),
    ];
    assert.equal(await runAfterHooks(asyncThenThrow, ADDR, request(), null), boom);
    const asyncAbort = [hook(log, "f", () => Promise.reject(abort)), hook(log, "g")];
    assert.equal(await runBeforeHooks(asyncAbort, ADDR, request()), abort);
    assert.deepEqual(log, ["a:before", "c:after:null", "d:after:null", "f:before"]);
  });

  test("hooks may mutate the request", () => {
    const req = request();
    const outcome = runBeforeHooks(
      [
        {
          doBeforeRequest: (_addr, r) => {
            r.setExt("zone", "z1");
          },
          doAfterResponse: () => {},
        },
      ],
      ADDR,
      req,
    );
    assert.equal(outcome, undefined);
    assert.equal(req.getExt("zone"), "z1");
  });
});

describe("AbortProcessError", () => {
  test("carries a response code and message; -1 when built from a message", () => {
    const cause = new Error("inner");
    const withCode = new AbortProcessError(16, "check signature failed.", { cause });
    assert.equal(withCode.responseCode, 16);
    assert.equal(withCode.errorMessage, "check signature failed.");
    assert.equal(withCode.cause, cause);
    assert.ok(withCode instanceof Error);
    const withoutCode = new AbortProcessError("denied", { cause });
    assert.equal(withoutCode.responseCode, -1);
    assert.equal(withoutCode.errorMessage, "denied");
    assert.equal(withoutCode.cause, cause);
    assert.equal(withoutCode.name, "AbortProcessError");
  });

  test("is an MqwireError with a stable code", () => {
    const abort = new AbortProcessError(16, "no");
    assert.ok(abort instanceof MqwireError);
    assert.ok(isMqwireError(abort, ErrorCodes.PROCESS_ABORTED));
    assert.equal(abort.code, "MQW_ERR_PROCESS_ABORTED");
  });
});

describe("RequestPipeline", () => {
  const stage = (
    log: string[],
    name: string,
    run: () => void | Promise<void> = () => {},
  ): RequestPipeline => ({
    execute: (c, r) => {
      assert.equal(c, ctx);
      assert.equal(r.code, 10);
      log.push(name);
      return run();
    },
  });

  test("pipe(a, b) runs b first: the broker's noop.pipe(authz).pipe(authn) authenticates first", () => {
    const log: string[] = [];
    const chain = RequestPipeline.pipe(
      RequestPipeline.pipe(RequestPipeline.noop, stage(log, "authz")),
      stage(log, "authn"),
    );
    assert.equal(chain.execute(ctx, request()), undefined);
    assert.deepEqual(log, ["authn", "authz"]);
  });

  test("sequence runs stages left to right", () => {
    const log: string[] = [];
    RequestPipeline.sequence(stage(log, "1"), stage(log, "2"), stage(log, "3")).execute(ctx, request());
    assert.deepEqual(log, ["1", "2", "3"]);
  });

  test("an async stage delays the next, and failures propagate", async () => {
    const log: string[] = [];
    const chain = RequestPipeline.sequence(
      stage(log, "slow", () => new Promise((resolve) => setImmediate(resolve))),
      stage(log, "next"),
    );
    const result = chain.execute(ctx, request());
    assert.ok(isPromiseLike(result));
    assert.deepEqual(log, ["slow"]);
    await result;
    assert.deepEqual(log, ["slow", "next"]);
    const abort = new AbortProcessError(16, "no");
    const failing = RequestPipeline.sequence(
      stage(log, "x", () => {
        throw abort;
      }),
      stage(log, "never"),
    );
    assert.throws(
      () => failing.execute(ctx, request()),
      (err) => err === abort,
    );
    const rejecting = RequestPipeline.sequence(
      stage(log, "y", () => Promise.reject(abort)),
      stage(log, "never"),
    );
    await assert.rejects(Promise.resolve(rejecting.execute(ctx, request())), (err) => err === abort);
    assert.ok(!log.includes("never"));
  });
});

describe("ACL signing hook", () => {
  test("signs the reference vector without a body", () => {
    const req = RemotingCommand.createRequest(10, { extFields: { topic: "TopicTest" } });
    const hook = createAclSigningHook({ accessKey: "rocketmq2", secretKey: "12345678" });
    assert.equal(runBeforeHooks([hook], ADDR, req), undefined);
    assert.equal(req.getExt("AccessKey"), "rocketmq2");
    assert.equal(req.getExt("Signature"), "GeeGoP9mRvDhoVp4PD5omX0prgE=");
  });

  test("signs the reference vector with body 'hello', and re-signing ignores the old Signature", () => {
    const req = RemotingCommand.createRequest(10, {
      extFields: { topic: "TopicTest" },
      body: Buffer.from("hello"),
    });
    const hook = createAclSigningHook({ accessKey: "rocketmq2", secretKey: "12345678" });
    hook.doBeforeRequest(ADDR, req);
    assert.equal(req.getExt("Signature"), "VCoakk8D+zaEPRCyxQHvWUF4988=");
    hook.doBeforeRequest(ADDR, req);
    assert.equal(req.getExt("Signature"), "VCoakk8D+zaEPRCyxQHvWUF4988=");
  });

  test("keys sort by UTF-16 code unit; the security token is signed (as Java does)", () => {
    const ext = new Map([
      ["b", "3"],
      ["a", "2"],
      ["B", "1"],
    ]);
    const expected = createHmac("sha1", "k").update("123").digest("base64");
    assert.equal(computeAclSignature(ext, null, "k"), expected);

    const req = RemotingCommand.createRequest(10, { extFields: { topic: "T" } });
    createAclSigningHook({ accessKey: "ak", secretKey: "sk", securityToken: "tok" }).doBeforeRequest(
      ADDR,
      req,
    );
    assert.equal(req.getExt("SecurityToken"), "tok");
    // AccessKey < SecurityToken < topic
    assert.equal(req.getExt("Signature"), createHmac("sha1", "sk").update("aktokT").digest("base64"));
  });

  test("missing credentials are refused", () => {
    assert.throws(() => createAclSigningHook({ accessKey: "", secretKey: "s" }), {
      code: ErrorCodes.INVALID_ARGUMENT,
    });
    assert.throws(() => createAclSigningHook({ accessKey: "a", secretKey: "" }), {
      code: ErrorCodes.INVALID_ARGUMENT,
    });
  });
});
