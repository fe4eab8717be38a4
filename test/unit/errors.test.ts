/**
 * Error classes check a `Symbol.for` brand, not the prototype, so that an error made by another
 * copy of mqwire in the same process (two versions in node_modules) passes `instanceof` and
 * isMqwireError alike (undici's kUndiciError).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  AbortProcessError,
  ChannelClosedError,
  ConnectError,
  ErrorCodes,
  isMqwireError,
  MqwireError,
  NegotiationError,
  ProtocolError,
  ProxyProtocolError,
  TimeoutError,
} from "../../src/errors.js";

/** What another copy's TimeoutError looks like from here: its brands, none of our classes. */
function timeoutFromAnotherCopy(): object {
  const err = new Error("wait response timeout");
  Object.defineProperties(err, {
    [Symbol.for("mqwire.error.MqwireError")]: { get: () => true },
    [Symbol.for("mqwire.error.TimeoutError")]: { get: () => true },
    code: { value: ErrorCodes.TIMEOUT },
    name: { value: "TimeoutError" },
  });
  return err;
}

describe("error brands", () => {
  test("an error of another copy passes instanceof and isMqwireError", () => {
    const foreign = timeoutFromAnotherCopy();
    assert.equal(Object.getPrototypeOf(foreign), Error.prototype, "not made by our classes");
    assert.ok(foreign instanceof TimeoutError);
    assert.ok(foreign instanceof MqwireError);
    assert.ok(isMqwireError(foreign));
    assert.ok(isMqwireError(foreign, ErrorCodes.TIMEOUT));
    assert.equal(isMqwireError(foreign, ErrorCodes.CONNECT), false);
    assert.equal(foreign instanceof ConnectError, false);
  });

  test("a plain object carrying only the brand passes too", () => {
    const plain = { [Symbol.for("mqwire.error.MqwireError")]: true, code: ErrorCodes.SEND };
    assert.ok(plain instanceof MqwireError);
    assert.ok(isMqwireError(plain, ErrorCodes.SEND));
  });

  test("our own errors: each class and its ancestors, never a sibling", () => {
    const closed = new ChannelClosedError("closed");
    assert.ok(closed instanceof ChannelClosedError);
    assert.ok(closed instanceof MqwireError);
    assert.ok(closed instanceof Error);
    assert.equal(closed instanceof TimeoutError, false);
    const proxy = new ProxyProtocolError("missing", "no header");
    assert.ok(proxy instanceof ProxyProtocolError);
    assert.ok(proxy instanceof NegotiationError);
    assert.equal(new NegotiationError("x") instanceof ProxyProtocolError, false);
    assert.ok(new AbortProcessError(16, "no") instanceof MqwireError);
    assert.equal(closed.name, "ChannelClosedError");
  });

  test("a subclass declared without a brand keeps the prototype check", () => {
    class FieldError extends ProtocolError {}
    assert.ok(new FieldError("x") instanceof FieldError);
    assert.ok(new FieldError("x") instanceof ProtocolError);
    assert.equal(new ProtocolError("x") instanceof FieldError, false);
  });

  test("values that are not mqwire errors", () => {
    for (const value of [
      new Error("x"),
      null,
      undefined,
      42,
      "MQW_ERR_TIMEOUT",
      { code: ErrorCodes.TIMEOUT },
    ]) {
      assert.equal(value instanceof MqwireError, false);
      assert.equal(isMqwireError(value), false);
    }
    assert.equal({ [Symbol.for("mqwire.error.MqwireError")]: "yes" } instanceof MqwireError, false);
  });
});
