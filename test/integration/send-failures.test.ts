/**
 * A request the codec cannot encode fails its call with MQW_ERR_SEND whose `cause` is the
 * encoder's typed error (STYLE: keep the original error as `cause`), on every kind of call.
 * The ROCKETMQ binary header holds the code in 16 bits; 70000 needs JSON (reference §2.2).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ErrorCodes, InteropCode, type RemotingCommand, SerializeType } from "../../src/index.js";
import {
  countedCallback,
  expectCode,
  request,
  startClient,
  startServer,
} from "../helpers/client-fixtures.js";

const BEYOND_INT16 = 70_000;

function assertEncoderCause(error: Error & { code?: string }): void {
  assert.equal(error.code, ErrorCodes.SEND);
  const cause = error.cause as { code?: string } | undefined;
  assert.ok(cause instanceof Error, `no cause on "${error.message}"`);
  assert.equal(cause.code, ErrorCodes.INVALID_ARGUMENT);
}

test("a request code beyond the binary header's 16 bits fails with MQW_ERR_SEND caused by the encoder", async (t) => {
  const s = await startServer(t);
  const client = startClient(t, { serializeType: SerializeType.ROCKETMQ });
  await client.invoke(s.addr, request(client, InteropCode.ECHO));
  const tooBig = (): RemotingCommand => client.createRequest(BEYOND_INT16);

  assertEncoderCause((await expectCode(client.invoke(s.addr, tooBig()), ErrorCodes.SEND)).error);
  assertEncoderCause((await expectCode(client.invokeOneway(s.addr, tooBig()), ErrorCodes.SEND)).error);
  const cb = countedCallback();
  client.invokeAsync(s.addr, tooBig(), 3000, cb.callback);
  await cb.settled;
  assert.deepEqual(cb.succeeded, []);
  assertEncoderCause(cb.failed[0]!);
  assertEncoderCause((await expectCode(client.invokeSync(s.addr, tooBig(), 3000), ErrorCodes.SEND)).error);
  assert.equal(client.pendingCalls, 0);
});
