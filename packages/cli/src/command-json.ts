/**
 * The JSON shape of a RemotingCommand used by `mqwire decode`, `encode` and `call`: the same keys
 * as the vectors' commands.jsonl (test/fixtures/vectors/rocketmq-random/README.md).
 *
 *   { "serializeType": "JSON" | "ROCKETMQ", "code", "language", "version", "opaque", "flag",
 *     "remark": string | null, "extFields": object | null, "body": base64 | null,
 *     "extFieldsOrder"?: [keys] }
 *
 * JSON.parse moves integer-like keys ("0", "42") to the front of an object, so extFields order is
 * taken from `extFieldsOrder` when given, else recovered from the input text; output writes the
 * keys in the command's own order.
 */

import {
  InvalidArgumentError,
  jsonObjectKeyOrder,
  languageFromName,
  languageName,
  parseSerializeType,
  RemotingCommand,
  serializeTypeName,
} from "mqwire";

/** A command as plain JSON data. */
export interface CommandJson {
  serializeType: "JSON" | "ROCKETMQ";
  code: number;
  /** The enum name, or the number for a code RocketMQ does not name. */
  language: string | number;
  version: number;
  opaque: number;
  flag: number;
  remark: string | null;
  extFields: Record<string, string> | null;
  /** Base64; null when absent or empty. */
  body: string | null;
  /** The extFields keys in order (an object cannot keep integer-like keys in place). */
  extFieldsOrder?: string[];
}

/** `cmd` as plain data, with `extFieldsOrder` when it has extFields. */
export function commandToJson(cmd: RemotingCommand): CommandJson {
  const json: CommandJson = {
    serializeType: serializeTypeName(cmd.serializeType),
    code: cmd.code,
    language: languageName(cmd.language) ?? cmd.language,
    version: cmd.version,
    opaque: cmd.opaque,
    flag: cmd.flag,
    remark: cmd.remark,
    extFields: cmd.extFields === null ? null : Object.fromEntries(cmd.extFields),
    body: cmd.body === null || cmd.body.length === 0 ? null : cmd.body.toString("base64"),
  };
  if (cmd.extFields !== null) json.extFieldsOrder = [...cmd.extFields.keys()];
  return json;
}

/**
 * `cmd` as one line of JSON text (no newline), keys as in `CommandJson` without `extFieldsOrder`:
 * the extFields object is written in the command's key order, which `parseCommandJson` recovers.
 */
export function commandToJsonLine(cmd: RemotingCommand): string {
  let ext = "null";
  if (cmd.extFields !== null) {
    const parts: string[] = [];
    for (const [k, v] of cmd.extFields) parts.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    ext = `{${parts.join(",")}}`;
  }
  const language = languageName(cmd.language);
  const body = cmd.body === null || cmd.body.length === 0 ? null : cmd.body.toString("base64");
  return (
    `{"serializeType":"${serializeTypeName(cmd.serializeType)}","code":${cmd.code},` +
    `"language":${language === undefined ? cmd.language : `"${language}"`},"version":${cmd.version},` +
    `"opaque":${cmd.opaque},"flag":${cmd.flag},"remark":${JSON.stringify(cmd.remark)},` +
    `"extFields":${ext},"body":${JSON.stringify(body)}}`
  );
}

/** Parses one line of JSON text into a command; key order as the module comment says. */
export function parseCommandJson(text: string): RemotingCommand {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`invalid JSON: ${(err as Error).message}`, { cause: err });
  }
  return commandFromJson(value, jsonObjectKeyOrder(text, "extFields"));
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;
const FIELDS = new Set([
  "serializeType",
  "code",
  "language",
  "version",
  "opaque",
  "flag",
  "remark",
  "extFields",
  "body",
  "extFieldsOrder",
]);

/**
 * Builds a command from parsed JSON. Every key is optional (RemotingCommand's defaults apply;
 * serializeType defaults to JSON); unknown keys are refused so typos show. `keyOrder` is the
 * extFields order found in the text, used when `extFieldsOrder` is absent.
 * Throws InvalidArgumentError naming the bad key.
 */
export function commandFromJson(value: unknown, keyOrder: string[] | null = null): RemotingCommand {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidArgumentError("a command must be a JSON object");
  }
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!FIELDS.has(key)) throw new InvalidArgumentError(`unknown key ${JSON.stringify(key)}`);
  }
  const cmd = new RemotingCommand({
    serializeType: o.serializeType == null ? undefined : parseSerializeType(String(o.serializeType)),
    code: int32(o.code, "code"),
    language: language(o.language),
    version: int32(o.version, "version"),
    opaque: int32(o.opaque, "opaque"),
    flag: int32(o.flag, "flag"),
  });
  if (o.remark != null) {
    if (typeof o.remark !== "string") throw new InvalidArgumentError("remark must be a string or null");
    cmd.remark = o.remark;
  }
  cmd.extFields = extFields(o.extFields, o.extFieldsOrder, keyOrder);
  if (o.body != null) {
    if (typeof o.body !== "string" || !BASE64.test(o.body)) {
      throw new InvalidArgumentError('body must be base64 text, "" or null');
    }
    cmd.body = o.body.length === 0 ? null : Buffer.from(o.body, "base64");
  }
  return cmd;
}

function int32(value: unknown, key: string): number | undefined {
  if (value == null) return undefined;
  if (typeof value !== "number" || (value | 0) !== value) {
    throw new InvalidArgumentError(`${key} must be an int32, got ${JSON.stringify(value)}`);
  }
  return value;
}

function language(value: unknown): number | undefined {
  if (value == null) return undefined;
  if (typeof value === "string") {
    const code = languageFromName(value);
    if (code === undefined) throw new InvalidArgumentError(`unknown language ${JSON.stringify(value)}`);
    return code;
  }
  if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 255) return value;
  throw new InvalidArgumentError(`language must be a name or a byte, got ${JSON.stringify(value)}`);
}

function extFields(value: unknown, order: unknown, textOrder: string[] | null): Map<string, string> | null {
  if (value == null) {
    if (order != null && (!Array.isArray(order) || order.length > 0)) {
      throw new InvalidArgumentError("extFieldsOrder given without extFields");
    }
    return null;
  }
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidArgumentError("extFields must be an object of strings or null");
  }
  const ext = value as Record<string, unknown>;
  const own = Object.keys(ext);
  let keys = own;
  if (order != null) {
    if (!Array.isArray(order) || order.some((k) => typeof k !== "string" || !Object.hasOwn(ext, k))) {
      throw new InvalidArgumentError("extFieldsOrder must list the keys of extFields");
    }
    if (new Set(order).size !== own.length || order.length !== own.length) {
      throw new InvalidArgumentError("extFieldsOrder must list every key of extFields once");
    }
    keys = order as string[];
  } else if (textOrder !== null && textOrder.length === own.length) {
    keys = textOrder;
  }
  const map = new Map<string, string>();
  for (const key of keys) {
    const v = ext[key];
    if (typeof v !== "string") throw new InvalidArgumentError(`extFields.${key} must be a string`);
    map.set(key, v);
  }
  return map;
}

/** A body as `call` and `consume` print it: its text, or base64 when it is not UTF-8. */
export interface BodyJson {
  body: string;
  bodyEncoding: "utf8" | "base64";
}

// fatal: a body that is not UTF-8 comes out as base64, not with U+FFFD in place of bytes;
// ignoreBOM: a leading BOM is part of the body, so it stays.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** `body` as text when it is valid UTF-8, else as base64; `bodyEncoding` says which. */
export function bodyToJson(body: Uint8Array): BodyJson {
  try {
    return { body: utf8.decode(body), bodyEncoding: "utf8" };
  } catch {
    return {
      body: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("base64"),
      bodyEncoding: "base64",
    };
  }
}
