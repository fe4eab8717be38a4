/**
 * End to end, over real sockets on 127.0.0.1:0: RPC hooks and the request pipeline around a
 * server's processors (RocketMQ `NettyRemotingAbstract.processRequestCommand`, reference §5 and
 * §5.1: before-hooks → pipeline → processor → after-hooks → write, with its exception policy),
 * and hooks on the client around a call (before the write, after the response; §12 signing).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  AbortProcessError,
  ErrorCodes,
  type RemotingChannel,
  RemotingCommand,
  ResponseCode,
  type RpcHook,
} from "../../src/index.js";
// Not in the public barrel (reported): the pipeline combinators and the ACL signer.
import { computeAclSignature, createAclSigningHook } from "../../src/remoting/acl-hook.js";
import { RequestPipeline } from "../../src/remoting/hooks.js";
import { counted, makeClient, RawPeer, sleep, startServer, waitFor } from "../helpers/remoting.js";

const CODE = 100;
const NO_PERMISSION = ResponseCode.NO_PERMISSION;
/** Time a test waits to be sure a frame does NOT arrive. */
const QUIET_MS = 100;

/** A hook that logs `name:before` / `name:after:<code|null>` and runs `before` / `after`. */
function recordingHook(
  log: string[],
  name: string,
  actions: {
    before?: (request: RemotingCommand) => void | Promise<void>;
    after?: (request: RemotingCommand, response: RemotingCommand | null) => void | Promise<void>;
  } = {},
): RpcHook {
  return {
    doBeforeRequest(_addr, request) {
      log.push(`${name}:before`);
      return actions.before?.(request);
    },
    doAfterResponse(_addr, request, response) {
      log.push(`${name}:after:${response === null ? "null" : response.code}`);
      return actions.after?.(request, response);
    },
  };
}

const ok = (remark: string | null = "ok"): RemotingCommand =>
  RemotingCommand.createResponse(ResponseCode.SUCCESS, remark);

class BeforeHookError extends Error {
  override name = "BeforeHookError";
}
class AfterHookError extends Error {
  override name = "AfterHookError";
}

describe("server hooks and pipeline: order", () => {
  test("before-hooks (registration order) → pipeline → processor → after-hooks → reply", async (t) => {
    const log: string[] = [];
    const { addr } = await startServer(t, {}, (s) => {
      s.registerRpcHook(recordingHook(log, "A"));
      // An async hook keeps its place in the order.
      s.registerRpcHook(recordingHook(log, "B", { before: () => sleep(5), after: () => sleep(30) }));
      s.registerRpcHook(recordingHook(log, "C"));
      s.setRequestPipeline({ execute: () => void log.push("pipeline") });
      s.registerProcessor(CODE, () => {
        log.push("processor");
        return ok();
      });
    });
    const response = await makeClient(t).invoke(addr, RemotingCommand.createRequest(CODE));
    log.push("client:response");
    assert.equal(response.code, ResponseCode.SUCCESS);
    assert.deepEqual(log, [
      "A:before",
      "B:before",
      "C:before",
      "pipeline",
      "processor",
      "A:after:0",
      "B:after:0",
      "C:after:0",
      "client:response",
    ]);
  });

  test("a before-hook's change to the request is what the processor sees", async (t) => {
    const { addr } = await startServer(t, {}, (s) => {
      s.registerRpcHook(recordingHook([], "A", { before: (r) => void r.setExt("hooked", "yes") }));
      s.registerProcessor(CODE, (request) => ok(request.getExt("hooked") ?? "missing"));
    });
    const response = await makeClient(t).invoke(addr, RemotingCommand.createRequest(CODE));
    assert.equal(response.remark, "yes");
  });

  test("an after-hook sees the processor's response, and its changes are written", async (t) => {
    const seen: (RemotingCommand | null)[] = [];
    const { addr } = await startServer(t, {}, (s) => {
      s.registerRpcHook(
        recordingHook([], "A", {
          after: (_r, response) => {
            seen.push(response);
            response?.setExt("after", "1");
          },
        }),
      );
      s.registerProcessor(CODE, () => ok("from-processor"));
    });
    const response = await makeClient(t).invoke(addr, RemotingCommand.createRequest(CODE));
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.remark, "from-processor");
    assert.equal(response.getExt("after"), "1");
  });

  test("RequestPipeline.pipe(a, b) runs b first: noop.pipe(authz).pipe(authn) authenticates first", async (t) => {
    const log: string[] = [];
    const authz: RequestPipeline = { execute: () => void log.push("authz") };
    const authn: RequestPipeline = {
      execute: async () => {
        await sleep(5);
        log.push("authn");
      },
    };
    const { addr } = await startServer(t, {}, (s) => {
      s.setRequestPipeline(RequestPipeline.pipe(RequestPipeline.pipe(RequestPipeline.noop, authz), authn));
      s.registerProcessor(CODE, () => {
        log.push("processor");
        return ok();
      });
    });
    await makeClient(t).invoke(addr, RemotingCommand.createRequest(CODE));
    assert.deepEqual(log, ["authn", "authz", "processor"]);
  });

  test("the pipeline sees the connection: remote address and channel", async (t) => {
    const seen: { remoteAddress: string; channel?: RemotingChannel }[] = [];
    const { addr } = await startServer(t, {}, (s) => {
      s.setRequestPipeline({ execute: (ctx) => void seen.push(ctx) });
      s.registerProcessor(CODE, () => ok());
    });
    const client = makeClient(t);
    await client.invoke(addr, RemotingCommand.createRequest(CODE));
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.remoteAddress, client.channelOf(addr)?.localAddress);
    assert.equal(seen[0]!.channel?.remoteAddress, seen[0]!.remoteAddress);
  });

  test("a processor that defers: after-hooks get null, the late respond is the reply", async (t) => {
    const log: string[] = [];
    const held: [RemotingChannel, RemotingCommand][] = [];
    const { addr } = await startServer(t, {}, (s) => {
      s.registerRpcHook(recordingHook(log, "A"));
      s.registerProcessor(CODE, (request, channel) => {
        held.push([channel, request]);
        return null;
      });
    });
    const call = makeClient(t).invoke(addr, RemotingCommand.createRequest(CODE), { timeoutMs: 2000 });
    await waitFor(() => log.length === 2, "the after-hook");
    assert.deepEqual(log, ["A:before", "A:after:null"]);
    const [channel, request] = held[0]!;
    channel.respond(request, ok("late"));
    assert.equal((await call).remark, "late");
  });
});

describe("server hooks and pipeline: failures", () => {
  test("a before-hook's plain error: processor not called, later before-hooks skipped, SYSTEM_ERROR", async (t) => {
    const log: string[] = [];
    const processor = counted(() => ok());
    const { addr } = await startServer(t, {}, (s) => {
      s.registerRpcHook(
        recordingHook(log, "A", {
          before: () => {
            throw new BeforeHookError("refused");
          },
        }),
      );
      s.registerRpcHook(recordingHook(log, "B"));
      s.registerProcessor(CODE, processor);
    });
    const response = await makeClient(t).invoke(addr, RemotingCommand.createRequest(CODE));
    assert.equal(response.code, ResponseCode.SYSTEM_ERROR);
    assert.ok(response.remark?.startsWith("BeforeHookError"), `remark: ${response.remark}`);
    assert.equal(processor.count, 0);
    // Java's doBeforeRpcHooks has no per-hook catch: the first failure ends the loop; the
    // after-hooks all run, with the SYSTEM_ERROR response built in place of the processor's.
    assert.deepEqual(log, ["A:before", "A:after:1", "B:after:1"]);
  });

  test("an after-hook's error replaces a before-hook's as the SYSTEM_ERROR remark", async (t) => {
    const { addr } = await startServer(t, {}, (s) => {
      s.registerRpcHook(
        recordingHook([], "A", {
          before: () => {
            throw new BeforeHookError("before");
          },
          after: () => {
            throw new AfterHookError("after");
          },
        }),
      );
      s.registerProcessor(CODE, () => ok());
    });
    const response = await makeClient(t).invoke(addr, RemotingCommand.createRequest(CODE));
    assert.equal(response.code, ResponseCode.SYSTEM_ERROR);
    assert.ok(response.remark?.startsWith("AfterHookError"), `remark: ${response.remark}`);
  });

  test("an after-hook's error turns a processor's success into SYSTEM_ERROR", async (t) => {
    const processor = counted(() => ok());
    const { addr } = await startServer(t, {}, (s) => {
      s.registerRpcHook(
        recordingHook([], "A", {
          after: async () => {
            throw new AfterHookError("after");
          },
        }),
      );
      s.registerProcessor(CODE, processor);
    });
    const response = await makeClient(t).invoke(addr, RemotingCommand.createRequest(CODE));
    assert.equal(processor.count, 1);
    assert.equal(response.code, ResponseCode.SYSTEM_ERROR);
  });

  test("AbortProcessError from a before-hook: its code and message; no processor, no after-hooks", async (t) => {
    const log: string[] = [];
    const processor = counted(() => ok());
    const { addr } = await startServer(t, {}, (s) => {
      s.registerRpcHook(
        recordingHook(log, "A", {
          before: () => {
            throw new AbortProcessError(NO_PERMISSION, "check signature failed.");
          },
        }),
      );
      s.registerRpcHook(recordingHook(log, "B"));
      s.registerProcessor(CODE, processor);
    });
    const response = await makeClient(t).invoke(addr, RemotingCommand.createRequest(CODE));
    assert.equal(response.code, NO_PERMISSION);
    assert.equal(response.remark, "check signature failed.");
    assert.equal(processor.count, 0);
    assert.deepEqual(log, ["A:before"]);
  });

  test("AbortProcessError from an after-hook replaces the processor's response", async (t) => {
    const { addr } = await startServer(t, {}, (s) => {
      s.registerRpcHook(
        recordingHook([], "A", {
          after: () => {
            throw new AbortProcessError(NO_PERMISSION, "late refusal");
          },
        }),
      );
      s.registerProcessor(CODE, () => ok());
    });
    const response = await makeClient(t).invoke(addr, RemotingCommand.createRequest(CODE));
    assert.equal(response.code, NO_PERMISSION);
    assert.equal(response.remark, "late refusal");
  });

  test("AbortProcessError from an async pipeline: its code and message; the processor is not called", async (t) => {
    const processor = counted(() => ok());
    const { addr } = await startServer(t, {}, (s) => {
      s.setRequestPipeline({
        execute: async (_ctx, request) => {
          await sleep(1);
          if (request.getExt("AccessKey") !== "admin")
            throw new AbortProcessError(NO_PERMISSION, "User:x is not found.");
        },
      });
      s.registerProcessor(CODE, processor);
    });
    const client = makeClient(t);
    const denied = await client.invoke(addr, RemotingCommand.createRequest(CODE));
    assert.equal(denied.code, NO_PERMISSION);
    assert.equal(denied.remark, "User:x is not found.");
    assert.equal(processor.count, 0);
    const allowed = await client.invoke(
      addr,
      RemotingCommand.createRequest(CODE, { extFields: { AccessKey: "admin" } }),
    );
    assert.equal(allowed.code, ResponseCode.SUCCESS);
    assert.equal(processor.count, 1);
  });

  test("AbortProcessError built from a message alone answers code -1", async (t) => {
    const { addr } = await startServer(t, {}, (s) => {
      s.setRequestPipeline({
        execute: () => {
          throw new AbortProcessError("no code");
        },
      });
      s.registerProcessor(CODE, () => ok());
    });
    const response = await makeClient(t).invoke(addr, RemotingCommand.createRequest(CODE));
    assert.equal(response.code, -1);
    assert.equal(response.remark, "no code");
  });

  test("a pipeline's plain error: SYSTEM_ERROR, the processor is not called", async (t) => {
    const processor = counted(() => ok());
    const { addr } = await startServer(t, {}, (s) => {
      s.setRequestPipeline({
        execute: () => {
          throw new TypeError("pipeline bug");
        },
      });
      s.registerProcessor(CODE, processor);
    });
    const response = await makeClient(t).invoke(addr, RemotingCommand.createRequest(CODE));
    assert.equal(response.code, ResponseCode.SYSTEM_ERROR);
    assert.ok(response.remark?.startsWith("TypeError"), `remark: ${response.remark}`);
    assert.equal(processor.count, 0);
  });

  test("AbortProcessError thrown by a processor answers with its code", async (t) => {
    const { addr } = await startServer(t, {}, (s) =>
      s.registerProcessor(CODE, () => {
        throw new AbortProcessError(17, "topic not exist");
      }),
    );
    const response = await makeClient(t).invoke(addr, RemotingCommand.createRequest(CODE));
    assert.equal(response.code, 17);
    assert.equal(response.remark, "topic not exist");
  });

  test("hooks run for oneway requests, and an abort still sends nothing", async (t) => {
    const log: string[] = [];
    const { addr } = await startServer(t, {}, (s) => {
      s.registerRpcHook(
        recordingHook(log, "A", {
          before: (r) => {
            if (r.code === 1) throw new AbortProcessError(NO_PERMISSION, "no");
          },
        }),
      );
      s.registerProcessor(1, () => ok());
      s.registerProcessor(CODE, () => ok());
    });
    const peer = await RawPeer.connect(t, addr);
    peer.send(RemotingCommand.createRequest(1).markOneway());
    peer.send(RemotingCommand.createRequest(CODE).markOneway());
    const probe = RemotingCommand.createRequest(CODE);
    peer.send(probe);
    await peer.frame(0);
    await sleep(QUIET_MS);
    assert.equal(peer.frames.length, 1);
    assert.equal(peer.frames[0]!.command.opaque, probe.opaque);
    // Three requests in, three before-hooks; the aborted one gets no after-hook.
    assert.deepEqual(log.toSorted(), ["A:after:0", "A:after:0", "A:before", "A:before", "A:before"]);
  });
});

describe("client hooks", () => {
  const SECRET = "12345678";

  test("the ACL signing hook signs before the write: the server recomputes the same Signature", async (t) => {
    const { addr } = await startServer(t, {}, (s) =>
      s.registerProcessor(CODE, (request) => {
        const expected = computeAclSignature(request.extFields, request.body, SECRET);
        const code = request.getExt("Signature") === expected ? ResponseCode.SUCCESS : NO_PERMISSION;
        return RemotingCommand.createResponse(code, request.getExt("Signature") ?? null, {
          extFields: { accessKey: request.getExt("AccessKey") ?? "" },
        });
      }),
    );
    const client = makeClient(t);
    client.registerRpcHook(createAclSigningHook({ accessKey: "rocketmq2", secretKey: SECRET }));
    // The reference's vector (§12): {AccessKey: rocketmq2, topic: TopicTest}, no body.
    const plain = await client.invoke(
      addr,
      RemotingCommand.createRequest(CODE, { extFields: { topic: "TopicTest" } }),
    );
    assert.equal(plain.code, ResponseCode.SUCCESS);
    assert.equal(plain.remark, "GeeGoP9mRvDhoVp4PD5omX0prgE=");
    assert.equal(plain.getExt("accessKey"), "rocketmq2");
    const withBody = await client.invoke(
      addr,
      RemotingCommand.createRequest(CODE, { extFields: { topic: "TopicTest" }, body: Buffer.from("hello") }),
    );
    assert.equal(withBody.code, ResponseCode.SUCCESS);
    assert.equal(withBody.remark, "VCoakk8D+zaEPRCyxQHvWUF4988=");
  });

  test("doBeforeRequest runs before the write, doAfterResponse after the response arrives", async (t) => {
    const log: string[] = [];
    const afterSeen: RemotingCommand[] = [];
    const { addr } = await startServer(t, {}, (s) =>
      s.registerProcessor(CODE, (request) => {
        log.push(`server:${request.getExt("mark")}`);
        return ok("server-reply");
      }),
    );
    const client = makeClient(t);
    client.registerRpcHook(
      recordingHook(log, "client", {
        before: (r) => void r.setExt("mark", "set-by-hook"),
        after: (_r, response) => void afterSeen.push(response!),
      }),
    );
    const request = RemotingCommand.createRequest(CODE);
    const response = await client.invoke(addr, request);
    assert.deepEqual(log, ["client:before", "server:set-by-hook", "client:after:0"]);
    assert.equal(afterSeen[0], response);
    assert.equal(afterSeen[0]!.opaque, request.opaque);
  });

  test("doAfterResponse does not run for a call that failed or for a oneway call", async (t) => {
    const log: string[] = [];
    const { addr } = await startServer(t, {}, (s) => {
      s.registerProcessor(1, () => null);
      s.registerProcessor(CODE, (request) => {
        log.push(`server:${request.getExt("mark")}`);
        return ok();
      });
    });
    const client = makeClient(t, { closeSocketIfTimeout: false });
    client.registerRpcHook(recordingHook(log, "client", { before: (r) => void r.setExt("mark", "m") }));
    await assert.rejects(client.invoke(addr, RemotingCommand.createRequest(1), { timeoutMs: 50 }), {
      code: ErrorCodes.TIMEOUT,
    });
    await client.invokeOneway(addr, RemotingCommand.createRequest(CODE));
    await waitFor(() => log.includes("server:m"), "the oneway request at the server");
    await sleep(20);
    assert.deepEqual(log, ["client:before", "client:before", "server:m"]);
  });

  test("a client before-hook that throws fails the call and writes nothing", async (t) => {
    const processor = counted(() => ok());
    const { addr } = await startServer(t, {}, (s) => s.registerProcessor(CODE, processor));
    const client = makeClient(t);
    const refusing = recordingHook([], "x", {
      before: () => {
        throw new AbortProcessError(NO_PERMISSION, "local refusal");
      },
    });
    client.registerRpcHook(refusing);
    await assert.rejects(client.invoke(addr, RemotingCommand.createRequest(CODE)), AbortProcessError);
    await sleep(QUIET_MS);
    assert.equal(processor.count, 0);
  });
});
