/**
 * The interop service: a small set of request codes any implementation of RocketMQ's remoting
 * protocol can serve, so two implementations can check each other (gRPC ships interop servers the
 * same way). The codes and their replies are specified in README.md ("Interop service").
 */
import { RemotingCommand, ResponseCode } from "../codec/remoting-command.js";
import type { RemotingChannel } from "../remoting/channel.js";
import type { RemotingClient } from "../remoting/remoting-client.js";
import type { RemotingServer } from "../remoting/remoting-server.js";

/**
 * The request codes of the interop service (README.md, "Interop service").
 * @enum
 */
export const InteropCode = {
  ECHO: 100,
  DELAYED_ECHO: 101,
  NEVER_REPLIES: 102,
  THROWS: 103,
  ONEWAY_COUNT: 104,
  READ_COUNT: 105,
  PUSH: 106,
  /**
   * "Who am I": the caller's address as the server sees it (after any PROXY header). Not used by
   * the interop cases, so servers without it stay compatible.
   */
  WHO_AM_I: 107,
  /** The request the server pushes to the client. */
  CLIENT_PUSH: 200,
} as const;

const DEFAULT_PUSH_TIMEOUT_MS = 3000;
/** Longest delay 101 accepts, so a peer cannot park requests for ever. */
const MAX_DELAY_MS = 60_000;

function echo(request: RemotingCommand): RemotingCommand {
  return RemotingCommand.createResponse(ResponseCode.SUCCESS, "ok", {
    body: request.body,
    extFields: request.extFields === null ? null : new Map(request.extFields),
  });
}

/**
 * 107's reply: body "host:port" of the caller as this server sees it; `extFields.tlsSubject`, the
 * subject of the client's TLS certificate (one "key=value" per RDN, joined by ", "), when it sent one.
 */
function whoAmI(channel: RemotingChannel): RemotingCommand {
  const subject = channel.peerCertificate?.subject;
  return RemotingCommand.createResponse(ResponseCode.SUCCESS, null, {
    body: Buffer.from(channel.remoteAddress),
    extFields: subject === undefined ? null : { tlsSubject: subject.split("\n").join(", ") },
  });
}

/** Registers the interop processors (100–107) on a server. Returns the counter's accessor. */
export function registerInteropService(server: RemotingServer): {
  /** The counter of code 104 (reset by 105 with `reset=true`). */
  readonly count: number;
  /** Every 104 request counted since registration, never reset. */
  readonly onewayTotal: number;
} {
  let count = 0;
  let onewayTotal = 0;
  server.registerProcessor(InteropCode.ECHO, echo);
  server.registerProcessor(InteropCode.DELAYED_ECHO, (request) => {
    const delayMs = Math.min(MAX_DELAY_MS, Math.max(0, Number(request.getExt("delayMs") ?? 0) || 0));
    return new Promise((resolve) => setTimeout(() => resolve(echo(request)), delayMs));
  });
  server.registerProcessor(InteropCode.NEVER_REPLIES, () => null);
  server.registerProcessor(InteropCode.WHO_AM_I, (_request, channel: RemotingChannel) => whoAmI(channel));
  server.registerProcessor(InteropCode.THROWS, (request) => {
    throw new Error(`interop code 103 throws on purpose (opaque ${request.opaque})`);
  });
  server.registerProcessor(InteropCode.ONEWAY_COUNT, (request) => {
    count++;
    onewayTotal++;
    // A oneway request gets no reply: do not build one only to drop it (a large share of the
    // server's time in the oneway benchmark).
    if (request.isOneway) return null;
    return RemotingCommand.createResponse(ResponseCode.SUCCESS, null, {
      extFields: { count: String(count) },
    });
  });
  server.registerProcessor(InteropCode.READ_COUNT, (request) => {
    const text = String(count);
    if (request.getExt("reset") === "true") count = 0;
    return RemotingCommand.createResponse(ResponseCode.SUCCESS, null, {
      extFields: { count: text },
      body: Buffer.from(text),
    });
  });
  server.registerProcessor(InteropCode.PUSH, async (request, channel: RemotingChannel) => {
    const ext = new Map(request.extFields ?? []);
    ext.set("from", "server");
    const push = RemotingCommand.createRequest(InteropCode.CLIENT_PUSH, {
      body: request.body ?? Buffer.from("push"),
      extFields: ext,
      serializeType: request.serializeType,
    });
    const timeoutMs =
      Number(request.getExt("timeoutMs") ?? DEFAULT_PUSH_TIMEOUT_MS) || DEFAULT_PUSH_TIMEOUT_MS;
    try {
      const reply = await server.invoke(channel, push, { timeoutMs });
      return RemotingCommand.createResponse(ResponseCode.SUCCESS, null, {
        body: reply.body,
        extFields: { pushResponseCode: String(reply.code) },
      });
    } catch (err) {
      const e = err as Error & { code?: string };
      return RemotingCommand.createResponse(
        ResponseCode.SYSTEM_ERROR,
        `push failed: ${e.code ?? e.name}: ${e.message}`,
      );
    }
  });
  return {
    get count() {
      return count;
    },
    get onewayTotal() {
      return onewayTotal;
    },
  };
}

/** Registers the client side of the interop service: it answers pushed code 200. */
export function registerInteropClient(client: RemotingClient): void {
  client.registerProcessor(InteropCode.CLIENT_PUSH, (request) =>
    RemotingCommand.createResponse(ResponseCode.SUCCESS, "client-ok", {
      body: Buffer.concat([Buffer.from("pong:"), request.body ?? Buffer.alloc(0)]),
    }),
  );
}
