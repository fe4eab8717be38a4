/**
 * RocketMQ ACL request signing (client/.../acl/common/AclClientRPCHook.java, AclUtils,
 * AclSigner; reference §12): HMAC-SHA1 over the extFields' values sorted by key, then the body.
 */
import { createHmac } from "node:crypto";
import type { RemotingCommand } from "../codec/remoting-command.js";
import { InvalidArgumentError } from "../errors.js";
import type { RpcHook } from "./hooks.js";

/** extFields key of the access key (the user name on 5.3+ servers). */
export const ACL_ACCESS_KEY = "AccessKey";
/** extFields key of the optional security token; Java signs it (the Go client does not). */
export const ACL_SECURITY_TOKEN = "SecurityToken";
/** extFields key of the signature; excluded from the signed content. */
export const ACL_SIGNATURE = "Signature";

/** Credentials of {@link createAclSigningHook} (RocketMQ `SessionCredentials`). */
export interface AclCredentials {
  /** The account's AccessKey, sent with each request (RocketMQ's `AccessKey` extField). */
  accessKey: string;
  /** The account's SecretKey: signs each request, never sent. */
  secretKey: string;
  /** A temporary credential's token (`SecurityToken` extField), when the account has one. */
  securityToken?: string;
}

/** Java `String.compareTo`: UTF-16 code-unit order (uppercase before lowercase). */
function compareUtf16(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The signature RocketMQ computes for `extFields` and `body`: Base64(HMAC-SHA1(secretKey,
 * values of every key except "Signature", sorted by key, concatenated as UTF-8, then the body)).
 * Servers check requests the same way (`DefaultAuthenticationContextBuilder`).
 */
export function computeAclSignature(
  extFields: ReadonlyMap<string, string> | null,
  body: Uint8Array | null,
  secretKey: string,
): string {
  const hmac = createHmac("sha1", secretKey);
  if (extFields !== null) {
    const fields = Array.from(extFields).sort(([a], [b]) => compareUtf16(a, b));
    for (const [key, value] of fields) {
      if (key !== ACL_SIGNATURE) hmac.update(value, "utf8");
    }
  }
  if (body !== null && body.length > 0) hmac.update(body);
  return hmac.digest("base64");
}

/**
 * An {@link RpcHook} that signs each outgoing request like `AclClientRPCHook`: sets AccessKey
 * (and SecurityToken), then Signature. Register it last among hooks that add extFields: a field
 * added after signing breaks the signature.
 */
export function createAclSigningHook(credentials: AclCredentials): RpcHook {
  const { accessKey, secretKey, securityToken } = credentials;
  if (typeof accessKey !== "string" || accessKey === "") {
    throw new InvalidArgumentError("accessKey must be a non-empty string");
  }
  if (typeof secretKey !== "string" || secretKey === "") {
    throw new InvalidArgumentError("secretKey must be a non-empty string");
  }
  if (securityToken !== undefined && typeof securityToken !== "string") {
    throw new InvalidArgumentError("securityToken must be a string");
  }
  return {
    doBeforeRequest(_remoteAddr: string, request: RemotingCommand): void {
      request.setExt(ACL_ACCESS_KEY, accessKey);
      if (securityToken !== undefined) request.setExt(ACL_SECURITY_TOKEN, securityToken);
      request.setExt(ACL_SIGNATURE, computeAclSignature(request.extFields, request.body, secretKey));
    },
    doAfterResponse(): void {},
  };
}
