/**
 * What the client's GO_AWAY retry needs besides the call itself (RocketMQ 5.x, reference §6.6):
 * which requests can get GO_AWAY, and the copy of a request that is sent again on a new
 * connection. Kept apart from remoting-client.ts, which holds the retry's control flow.
 */
import { FLAG_RESPONSE, GO_AWAY_MIN_VERSION, RemotingCommand } from "../codec/remoting-command.js";

/** Only requests newer than V5_3_1 can get GO_AWAY (RocketMQ's server checks the version). */
export function mayGetGoAway(request: RemotingCommand, reconnectOnGoAway: boolean): boolean {
  return request.version >= GO_AWAY_MIN_VERSION && reconnectOnGoAway;
}

/** A copy of a request for a resend: same fields, a new opaque, no response flag. */
export function copyWithNewOpaque(request: RemotingCommand): RemotingCommand {
  const copy = RemotingCommand.createRequest(request.code, {
    language: request.language,
    version: request.version,
    remark: request.remark,
    extFields: request.extFields === null ? null : new Map(request.extFields),
    body: request.body,
    serializeType: request.serializeType,
  });
  copy.flag = request.flag & ~FLAG_RESPONSE;
  return copy;
}
