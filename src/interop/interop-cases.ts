/**
 * The interop cases: run against any server of the interop service (mqwire's, Java's, another
 * implementation's) and report PASS/FAIL per case. Used by `mqwire interop` and `mqwire demo`.
 */
import { isDeepStrictEqual } from "node:util";
import {
  type RemotingCommand,
  ResponseCode,
  type SerializeType,
  serializeTypeName,
} from "../codec/remoting-command.js";
import { ErrorCodes, isMqwireError } from "../errors.js";
import type { RemotingClient } from "../remoting/remoting-client.js";
import { InteropCode } from "./interop-service.js";

/** The outcome of one interop case. */
export interface CaseResult {
  /** The case's name (sync_echo, timeout_102, …). */
  name: string;
  /** True when the case passed. */
  ok: boolean;
  /** Why it failed. */
  reason?: string;
  /** How long it took, in ms. */
  elapsedMs: number;
}

/** Options of {@link runInteropCases}. */
export interface InteropRunOptions {
  /** The header serialization the cases are sent with. */
  serializeType: SerializeType;
  /** Time-out of each call, ms. Default 5000. */
  timeoutMs?: number;
}

class CaseFailure extends Error {}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new CaseFailure(message);
}

function extObject(ext: Map<string, string> | null): Record<string, string> {
  return ext === null ? {} : Object.fromEntries(ext);
}

/** The checks every echo makes: code, response flag, opaque, remark, serialize type, body, extFields. */
function checkEcho(request: RemotingCommand, response: RemotingCommand): void {
  check(response.code === ResponseCode.SUCCESS, `code ${response.code} (remark ${response.remark}), want 0`);
  check(response.isResponse, "response flag not set");
  check(response.opaque === request.opaque, `opaque ${response.opaque}, want ${request.opaque}`);
  check(response.remark === "ok", `remark ${JSON.stringify(response.remark)}, want "ok"`);
  check(
    response.serializeType === request.serializeType,
    `reply serialize type ${serializeTypeName(response.serializeType)}, want ${serializeTypeName(request.serializeType)}`,
  );
  const want = request.body ?? Buffer.alloc(0);
  const got = response.body ?? Buffer.alloc(0);
  check(want.equals(got), `body of ${got.length} bytes differs from the ${want.length} sent`);
  check(
    isDeepStrictEqual(extObject(response.extFields), extObject(request.extFields)),
    `extFields ${JSON.stringify(extObject(response.extFields))}, want ${JSON.stringify(extObject(request.extFields))}`,
  );
}

type Case = [name: string, run: () => Promise<void>];

/** Runs every case in order against `addr`; the client must have registerInteropClient applied. */
export async function runInteropCases(
  client: RemotingClient,
  addr: string,
  options: InteropRunOptions,
  onResult?: (result: CaseResult) => void,
): Promise<CaseResult[]> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const req = (code: number, init: Parameters<RemotingClient["createRequest"]>[1] = {}) =>
    client.createRequest(code, { serializeType: options.serializeType, ...init });
  const syncEcho = async (): Promise<void> => {
    const request = req(InteropCode.ECHO, {
      extFields: { greeting: "héllo, 世界 🚀", n: "1" },
      body: Buffer.from("hello interop"),
    });
    checkEcho(request, await client.invokeSync(addr, request, timeoutMs));
  };
  const cases: Case[] = [
    ["sync_echo", syncEcho],
    [
      "async_echo",
      async () => {
        const request = req(InteropCode.ECHO, {
          extFields: { mode: "async" },
          body: Buffer.from("async body"),
        });
        const response = await new Promise<RemotingCommand>((resolve, reject) =>
          client.invokeAsync(addr, request, timeoutMs, { operationSucceed: resolve, operationFail: reject }),
        );
        checkEcho(request, response);
      },
    ],
    [
      "empty_echo",
      async () => {
        const request = req(InteropCode.ECHO);
        checkEcho(request, await client.invoke(addr, request, { timeoutMs }));
      },
    ],
    [
      "large_echo_1MiB",
      async () => {
        const body = Buffer.alloc(1024 * 1024);
        for (let i = 0; i < body.length; i++) body[i] = (i * 31 + 7) & 0xff;
        const request = req(InteropCode.ECHO, { extFields: { size: String(body.length) }, body });
        checkEcho(request, await client.invoke(addr, request, { timeoutMs }));
      },
    ],
    [
      "delayed_echo_300ms",
      async () => {
        const request = req(InteropCode.DELAYED_ECHO, {
          extFields: { delayMs: "300" },
          body: Buffer.from("later"),
        });
        const started = performance.now();
        const response = await client.invoke(addr, request, { timeoutMs });
        const elapsed = performance.now() - started;
        checkEcho(request, response);
        check(elapsed >= 290, `answered after ${elapsed.toFixed(0)} ms, want >= 300`);
      },
    ],
    [
      "oneway_count",
      async () => {
        const reset = await client.invoke(
          addr,
          req(InteropCode.READ_COUNT, { extFields: { reset: "true" } }),
          {
            timeoutMs,
          },
        );
        check(reset.code === ResponseCode.SUCCESS, `reset answered code ${reset.code}`);
        for (let i = 0; i < 20; i++)
          await client.invokeOneway(addr, req(InteropCode.ONEWAY_COUNT), timeoutMs);
        const until = Date.now() + timeoutMs;
        let count = -1;
        while (Date.now() < until) {
          const read = await client.invoke(addr, req(InteropCode.READ_COUNT), { timeoutMs });
          check(read.code === ResponseCode.SUCCESS, `read answered code ${read.code}`);
          count = Number(read.getExt("count"));
          check(read.body?.toString() === read.getExt("count"), "count in body and extFields differ");
          if (count >= 20) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        check(count === 20, `count ${count}, want 20`);
      },
    ],
    [
      "timeout_102",
      async () => {
        const started = performance.now();
        try {
          await client.invokeSync(addr, req(InteropCode.NEVER_REPLIES), 500);
        } catch (err) {
          const elapsed = performance.now() - started;
          check(isMqwireError(err, ErrorCodes.TIMEOUT), `failed with ${String(err)}, want MQW_ERR_TIMEOUT`);
          check(elapsed >= 450 && elapsed <= 3000, `timed out after ${elapsed.toFixed(0)} ms, want 450–3000`);
          return;
        }
        throw new CaseFailure("code 102 got a reply");
      },
    ],
    [
      "error_103",
      async () => {
        const response = await client.invoke(addr, req(InteropCode.THROWS), { timeoutMs });
        check(response.code === ResponseCode.SYSTEM_ERROR, `code ${response.code}, want 1 (SYSTEM_ERROR)`);
        check(!!response.remark, "SYSTEM_ERROR without a remark");
      },
    ],
    [
      "unsupported_code",
      async () => {
        const response = await client.invoke(addr, req(9999), { timeoutMs });
        check(response.code === ResponseCode.REQUEST_CODE_NOT_SUPPORTED, `code ${response.code}, want 3`);
        check(/not supported/.test(response.remark ?? ""), `remark ${JSON.stringify(response.remark)}`);
      },
    ],
    [
      "server_push",
      async () => {
        const request = req(InteropCode.PUSH, { body: Buffer.from("ping") });
        const response = await client.invoke(addr, request, { timeoutMs });
        check(response.code === ResponseCode.SUCCESS, `code ${response.code} (${response.remark}), want 0`);
        check(response.body?.toString() === "pong:ping", `body ${JSON.stringify(response.body?.toString())}`);
        check(
          response.getExt("pushResponseCode") === "0",
          `pushResponseCode ${response.getExt("pushResponseCode")}`,
        );
      },
    ],
    ["sync_echo_after_timeout", syncEcho],
  ];
  const results: CaseResult[] = [];
  for (const [name, run] of cases) {
    const started = performance.now();
    let result: CaseResult;
    try {
      await run();
      result = { name, ok: true, elapsedMs: performance.now() - started };
    } catch (err) {
      const reason =
        err instanceof CaseFailure
          ? err.message
          : `${(err as { code?: string }).code ?? (err as Error).name}: ${(err as Error).message}`;
      result = { name, ok: false, reason, elapsedMs: performance.now() - started };
    }
    results.push(result);
    onResult?.(result);
  }
  return results;
}
