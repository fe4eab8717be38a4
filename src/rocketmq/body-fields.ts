/**
 * Shape checks for RocketMQ's JSON bodies: each reads one field of a parsed body and throws
 * {@link BodyFieldError} naming the field's path when it is missing or of the wrong type.
 *
 * Error convention of the body layer: throw, never return partial results. A body that is not
 * RocketMQ JSON at all throws the dialect parser's `JsonDialectError`; both are `ProtocolError`s
 * (`MQW_ERR_PROTOCOL`).
 */
import { ProtocolError } from "../errors.js";
import { parseRocketmqJson } from "./dialect.js";

/** A parsed body has the wrong shape; `field` is the path, e.g. `TopicRouteData.queueDatas[0].perm`. */
export class BodyFieldError extends ProtocolError {
  readonly field: string;
  constructor(field: string, expected: string, got: unknown) {
    super(`${field}: expected ${expected}, got ${describe(got)}`);
    this.field = field;
  }
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing (missing)";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string")
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

/** A parsed JSON object, read field by field. */
export type JsonObject = Record<string, unknown>;

/** The body parsed with the dialect parser, checked to be an object. */
export function bodyObject(body: Uint8Array, name: string): JsonObject {
  return object(parseRocketmqJson(body), name);
}

/** `value` as an object, or a {@link BodyFieldError} for `field`. */
export function object(value: unknown, field: string): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BodyFieldError(field, "an object", value);
  }
  return value as JsonObject;
}

/** `value` as an array. */
export function array(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw new BodyFieldError(field, "an array", value);
  return value;
}

/** `value` as a string. */
export function string(value: unknown, field: string): string {
  if (typeof value !== "string") throw new BodyFieldError(field, "a string", value);
  return value;
}

/** `value` as a boolean. */
export function boolean(value: unknown, field: string): boolean {
  if (typeof value !== "boolean") throw new BodyFieldError(field, "a boolean", value);
  return value;
}

/** A Java `int`. */
export function int(value: unknown, field: string): number {
  if (!Number.isInteger(value) || (value as number) < -0x80000000 || (value as number) > 0x7fffffff) {
    throw new BodyFieldError(field, "a 32-bit integer", value);
  }
  return value as number;
}

/**
 * A Java `long` as a number. A long beyond 2^53 (which the dialect parser keeps as a decimal
 * string) is refused: offsets and timestamps never get there, and a number would round it.
 */
export function long(value: unknown, field: string): number {
  if (!Number.isSafeInteger(value)) throw new BodyFieldError(field, "an integer within ±(2^53 − 1)", value);
  return value as number;
}

/**
 * A Java `double`. fastjson writes NaN and ±Infinity as `null` (`SerializeWriter.writeDouble`);
 * that reads as 0, the value Java's decoder leaves in a primitive field it finds null.
 */
export function double(value: unknown, field: string): number {
  if (value === null) return 0;
  if (typeof value !== "number") throw new BodyFieldError(field, "a number", value);
  return value;
}

/** A `List<String>` or `Set<String>`. */
export function stringList(value: unknown, field: string): string[] {
  const list = array(value, field);
  for (let i = 0; i < list.length; i++) string(list[i], `${field}[${i}]`);
  return list as string[];
}

/** A `Map<String, String>`, copied into a fresh object. */
export function stringMap(value: unknown, field: string): Record<string, string> {
  const map = object(value, field);
  const out: Record<string, string> = {};
  for (const key of Object.keys(map)) setOwn(out, key, string(map[key], `${field}[${JSON.stringify(key)}]`));
  return out;
}

/** `target[key] = value` as an own property, even for `"__proto__"` (which assignment would turn into a prototype). */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** `a.b` for a named field, `a[i]` for an index. */
export function path(parent: string, child: string | number): string {
  return typeof child === "number" ? `${parent}[${child}]` : `${parent}.${child}`;
}
