/**
 * Server-side check of RocketMQ ACL signatures, the counterpart of {@link createAclSigningHook}:
 * RocketMQ 4.9.8 `acl/.../plain/PlainAccessValidator.parse` (the signed content) and
 * `PlainPermissionManager.validate` (the order of the checks and their messages); reference §12.
 * Only authentication: RocketMQ's per-topic and per-group permissions and its white-listed
 * addresses are not modelled.
 *
 * A refusal answers NO_PERMISSION (16) with the reason as the remark, as RocketMQ 5.x's
 * `AuthenticationPipeline` does (`AbortProcessException(NO_PERMISSION, message)`); 4.9.8 let its
 * `AclException` escape the hook and so answered SYSTEM_ERROR with the exception's description.
 * The connection stays open: the next, correctly signed request on it is served.
 */
import { timingSafeEqual } from "node:crypto";
import type { RemotingCommand } from "../codec/remoting-command.js";
import { ResponseCode } from "../codec/remoting-command.js";
import { AbortProcessError, InvalidArgumentError } from "../errors.js";
import { defaultLogger, type Logger } from "../logger.js";
import { ACL_ACCESS_KEY, ACL_SIGNATURE, computeAclSignature } from "./acl-hook.js";
import type { RpcHook } from "./hooks.js";

/**
 * extFields key RocketMQ's client adds to QUERY_MESSAGE by unique key (`MixAll.UNIQUE_MSG_QUERY_FLAG`).
 * Clients up to 4.9.3 added it after signing, so servers leave it out of the content for them.
 */
export const ACL_UNIQUE_KEY_QUERY = "_UNIQUE_KEY_QUERY";
/**
 * Highest request version whose signature leaves out {@link ACL_UNIQUE_KEY_QUERY}: V4_9_3's
 * ordinal (5.x `DefaultAuthenticationContextBuilder`). 4.9.8 left it out for every version,
 * which refuses its own newer clients' query by key; the 5.x rule accepts both.
 */
export const ACL_UNIQUE_KEY_QUERY_MAX_VERSION = 399;

/** One account of {@link createAclVerifyingHook} (a RocketMQ `plain_acl.yml` account's keys). */
export interface AclAccount {
  /** The access key clients send as AccessKey. */
  accessKey: string;
  /** The secret that signs the account's requests. */
  secretKey: string;
}

/** Options of {@link createAclVerifyingHook}. */
export interface AclVerifyingHookOptions {
  /** The accounts whose requests pass, at least one; access keys must be distinct. */
  accounts: readonly AclAccount[];
  /** Where each refusal is logged (warn: address, request code, reason). Default {@link defaultLogger}. */
  logger?: Logger;
}

/** Why a request was refused; the texts are PlainPermissionManager.validate's. */
export type AclRefusal = string;

function secretTable(accounts: readonly AclAccount[]): ReadonlyMap<string, string> {
  if (!Array.isArray(accounts) || accounts.length === 0) {
    throw new InvalidArgumentError("accounts must be a non-empty array of { accessKey, secretKey }");
  }
  const table = new Map<string, string>();
  accounts.forEach((account, i) => {
    const { accessKey, secretKey } = account ?? {};
    if (typeof accessKey !== "string" || accessKey === "") {
      throw new InvalidArgumentError(`accounts[${i}].accessKey must be a non-empty string`);
    }
    if (typeof secretKey !== "string" || secretKey === "") {
      throw new InvalidArgumentError(`accounts[${i}].secretKey must be a non-empty string`);
    }
    if (table.has(accessKey)) {
      throw new InvalidArgumentError(`accounts[${i}].accessKey "${accessKey}" is listed twice`);
    }
    table.set(accessKey, secretKey);
  });
  return table;
}

/** The fields the signature covers: all but Signature, and for old clients the query flag. */
function signedFields(request: RemotingCommand): ReadonlyMap<string, string> | null {
  const ext = request.extFields;
  if (ext === null || request.version > ACL_UNIQUE_KEY_QUERY_MAX_VERSION || !ext.has(ACL_UNIQUE_KEY_QUERY)) {
    return ext; // computeAclSignature skips Signature itself
  }
  const copy = new Map(ext);
  copy.delete(ACL_UNIQUE_KEY_QUERY);
  return copy;
}

/** Constant-time comparison, as 5.x does with `MessageDigest.isEqual`. */
function sameSignature(expected: string, got: string): boolean {
  const a = Buffer.from(expected, "utf8");
  const b = Buffer.from(got, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Checks `request`'s ACL signature against the secret of its AccessKey (`secretOf` answers
 * undefined for an unknown key). Returns undefined when it holds, else the reason. A
 * SecurityToken needs no check of its own: it travels in extFields, so the signature covers it.
 */
export function checkAclSignature(
  request: RemotingCommand,
  secretOf: (accessKey: string) => string | undefined,
): AclRefusal | undefined {
  const accessKey = request.getExt(ACL_ACCESS_KEY);
  if (accessKey === undefined) return "No accessKey is configured";
  const secretKey = secretOf(accessKey);
  if (secretKey === undefined) return `No acl config for ${accessKey}`;
  const signature = request.getExt(ACL_SIGNATURE);
  const expected = computeAclSignature(signedFields(request), request.body, secretKey);
  if (signature === undefined || !sameSignature(expected, signature)) {
    return `Check signature failed for accessKey=${accessKey}`;
  }
  return undefined;
}

/**
 * A server {@link RpcHook} that refuses every request whose ACL signature does not check out
 * (missing AccessKey, unknown AccessKey, missing or wrong Signature) with NO_PERMISSION (16) and
 * the reason as the remark, and logs the refusal. Register it first, so no other hook runs for
 * a refused request. Oneway requests are refused silently (they get no reply), but logged.
 */
export function createAclVerifyingHook(options: AclVerifyingHookOptions): RpcHook {
  const secrets = secretTable(options?.accounts);
  const logger = options.logger ?? defaultLogger;
  const secretOf = (accessKey: string): string | undefined => secrets.get(accessKey);
  return {
    doBeforeRequest(remoteAddr: string, request: RemotingCommand): void {
      const refusal = checkAclSignature(request, secretOf);
      if (refusal === undefined) return;
      logger.warn(
        `${remoteAddr}: ACL refused request code ${request.code} (opaque ${request.opaque}): ${refusal}`,
      );
      throw new AbortProcessError(ResponseCode.NO_PERMISSION, refusal);
    },
    doAfterResponse(): void {},
  };
}
