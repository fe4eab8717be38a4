/**
 * Typed custom headers, RocketMQ's `CommandCustomHeader`: a header is declared once as a spec of
 * fields, and gives a frozen object that writes a values object to `extFields` and reads it back,
 * validated. The wire format follows remoting/.../protocol/RemotingCommand.java
 * (`makeCustomHeaderToNet`, `decodeCommandCustomHeader`) and the `FastCodesHeader` classes.
 *
 * Error convention of this file: throw. `encode` throws `InvalidArgumentError` (the caller's values
 * are wrong), `decode` throws `ProtocolError` (the peer's header is wrong), `defineHeader` throws
 * `InvalidArgumentError` for a bad spec.
 */
import { InvalidArgumentError, ProtocolError } from "../errors.js";

/** How a field is typed in Java: `String`, `Integer`/`int`, `Long`/`long`, `Boolean`/`boolean`. */
export type HeaderFieldType = "string" | "int" | "long" | "boolean";

/** One field of a header spec. */
export interface HeaderFieldSpec {
  /** The Java type of the field, which fixes its JavaScript type and its text form on the wire. */
  readonly type: HeaderFieldType;
  /** Java's `@CFNotNull`: encode and decode both require the field. Default false. */
  readonly required?: boolean;
  /** The extFields key on the wire. Default: the property name (SEND_MESSAGE_V2 uses "a".."n"). */
  readonly key?: string;
  /**
   * For a Java primitive field (`boolean unitMode`), which is never null and so always on the wire:
   * encode writes it when the value is absent, and decode returns it when the key is missing.
   * Not allowed with `required`.
   */
  readonly default?: string | number | boolean;
}

/** A header spec: property name → field, in wire order. */
export type HeaderSpec = Readonly<Record<string, HeaderFieldSpec>>;

/** The JavaScript type of a field's values: string, boolean, or number for `int` and `long`. */
export type FieldValue<F extends HeaderFieldSpec> = F["type"] extends "string"
  ? string
  : F["type"] extends "boolean"
    ? boolean
    : number;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The values type of a spec: `required` fields non-optional, the others optional. */
export type SpecValues<S extends HeaderSpec> = Simplify<
  { -readonly [K in keyof S as S[K] extends { readonly required: true } ? K : never]: FieldValue<S[K]> } & {
    -readonly [K in keyof S as S[K] extends { readonly required: true } ? never : K]?: FieldValue<S[K]>;
  }
>;

/** A field as a header holds it, every default resolved. */
export interface HeaderField {
  /** The property of the values object. */
  readonly property: string;
  /** The extFields key on the wire. */
  readonly key: string;
  /** The field's Java type. */
  readonly type: HeaderFieldType;
  /** True when encode and decode require the field (`@CFNotNull`). */
  readonly required: boolean;
  /** Written when the value is absent and returned when the key is missing; undefined for none. */
  readonly default: string | number | boolean | undefined;
}

/** A declared header: writes values of type `T` to extFields and reads them back. */
export interface CustomHeader<T> {
  /** The Java class name, used in error messages. */
  readonly name: string;
  /** The fields, in spec order (the order `encode` writes them). */
  readonly fields: readonly HeaderField[];
  /**
   * extFields for `values`, fields in spec order. Absent (undefined or null) optional fields are
   * left out, as Java's `makeCustomHeaderToNet` leaves out null fields.
   * @throws InvalidArgumentError (`MQW_ERR_INVALID_ARGUMENT`) for a missing required field or a
   * value of the wrong type or range; the message names the header and the field.
   */
  encode(values: T): Map<string, string>;
  /**
   * The values in `extFields`; unknown keys are ignored, as in Java. `null` reads as no fields.
   * @throws ProtocolError (`MQW_ERR_PROTOCOL`) naming the header, field, wire key and value, for a
   * missing required field, an int outside 32 bits, or a long that is not a safe integer.
   */
  decode(extFields: ReadonlyMap<string, string> | null): T;
}

/** The values type of a declared header: `HeaderValues<typeof PullMessageRequestHeader>`. */
export type HeaderValues<H> = H extends CustomHeader<infer T> ? T : never;

const TYPES: ReadonlySet<string> = new Set<HeaderFieldType>(["string", "int", "long", "boolean"]);
const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
/** Longest value quoted in an error message: `properties` can be kilobytes. */
const MAX_QUOTED_CHARS = 80;

/**
 * Declares a header. `name` is the Java class name; `spec` maps each property (the Java field
 * name) to its type, whether it is required, and its wire key.
 * @throws InvalidArgumentError (`MQW_ERR_INVALID_ARGUMENT`) for an unknown type, a key used twice,
 * or a default of the wrong type.
 */
export function defineHeader<const S extends HeaderSpec>(name: string, spec: S): CustomHeader<SpecValues<S>> {
  if (typeof name !== "string" || name.length === 0) {
    throw new InvalidArgumentError("defineHeader: name must be a non-empty string");
  }
  const fields: HeaderField[] = [];
  const keys = new Set<string>();
  for (const [property, f] of Object.entries(spec)) {
    const key = f.key ?? property;
    if (!TYPES.has(f.type)) {
      throw new InvalidArgumentError(
        `defineHeader ${name}.${property}: unknown type ${JSON.stringify(f.type)}`,
      );
    }
    if (typeof key !== "string" || key.length === 0 || keys.has(key)) {
      throw new InvalidArgumentError(
        `defineHeader ${name}.${property}: key ${JSON.stringify(key)} is empty or taken`,
      );
    }
    const field: HeaderField = {
      property,
      key,
      type: f.type,
      required: f.required === true,
      default: f.default,
    };
    if (field.default !== undefined) {
      if (field.required)
        throw new InvalidArgumentError(`defineHeader ${name}.${property}: required with a default`);
      format(name, field, field.default); // throws when the default does not fit the type
    }
    keys.add(key);
    fields.push(Object.freeze(field));
  }
  Object.freeze(fields);

  return Object.freeze({
    name,
    fields,
    encode(values: SpecValues<S>): Map<string, string> {
      if (values === null || typeof values !== "object") {
        throw new InvalidArgumentError(`${name}: values must be an object`);
      }
      const record = values as Record<string, unknown>;
      const out = new Map<string, string>();
      for (const field of fields) {
        let value = record[field.property];
        if (value === undefined || value === null) {
          if (field.default !== undefined) value = field.default;
          else if (field.required) throw new InvalidArgumentError(`${name}.${field.property} is required`);
          else continue;
        }
        out.set(field.key, format(name, field, value));
      }
      return out;
    },
    decode(extFields: ReadonlyMap<string, string> | null): SpecValues<S> {
      // Java skips every check when extFields is null (decodeCommandCustomHeader); reading it as
      // no fields instead keeps the result's required fields honest.
      const out: Record<string, unknown> = {};
      for (const field of fields) {
        const raw = extFields?.get(field.key);
        // A null value is missing too, as Java tests `null == value` (its ROCKETMQ-serialization
        // decoder turns an empty value into null).
        if (raw === undefined || raw === null) {
          // Java 4.9.8 only logs a missing @CFNotNull field (the throw is inside its catch-all,
          // and FastCodesHeader.getAndCheckNotNull "keeps compatible"), leaving null for an NPE
          // later; refuse here instead.
          if (field.required) throw decodeError(name, field, raw, "is required but missing");
          if (field.default !== undefined) out[field.property] = field.default;
          continue;
        }
        out[field.property] = parse(name, field, raw);
      }
      return out as SpecValues<S>;
    },
  });
}

/** `value` as Java's `toString` writes it: Integer/Long.toString, Boolean.toString, the string. */
function format(header: string, field: HeaderField, value: unknown): string {
  switch (field.type) {
    case "string":
      if (typeof value === "string") return value;
      break;
    case "int":
      if (Number.isInteger(value) && (value as number) >= INT_MIN && (value as number) <= INT_MAX) {
        return `${value as number}`; // -0 prints "0", as a Java int would
      }
      break;
    case "long":
      // Beyond 2^53 a JS number is not the long the caller meant; refuse it rather than round.
      if (Number.isSafeInteger(value)) return `${value as number}`;
      break;
    case "boolean":
      if (typeof value === "boolean") return value ? "true" : "false";
      break;
  }
  const expected = field.type === "long" ? "a safe integer (a Java long)" : `a Java ${field.type}`;
  throw new InvalidArgumentError(`${header}.${field.property} must be ${expected}, got ${quote(value)}`);
}

/**
 * `raw` read as Java reads it. Ints and longs are parsed like Integer.parseInt / Long.parseLong
 * (an optional sign, then decimal digits; ASCII digits only, where Java also takes other Unicode
 * digits no Java peer ever writes). Java's reflective decoder logs a bad number and leaves the field
 * null, its FastCodesHeader decoders throw NumberFormatException: a bad number is refused here.
 */
function parse(header: string, field: HeaderField, raw: string): string | number | boolean {
  switch (field.type) {
    case "string":
      return raw;
    case "boolean":
      // Boolean.parseBoolean: "true" in any case is true, anything else false, never an error.
      // Followed as is: a Java broker reads whatever we send the same way, and refusing a value it
      // accepts would break on headers that work with Java.
      return (
        raw.length === 4 &&
        (raw.charCodeAt(0) | 0x20) === 0x74 &&
        (raw.charCodeAt(1) | 0x20) === 0x72 &&
        (raw.charCodeAt(2) | 0x20) === 0x75 &&
        (raw.charCodeAt(3) | 0x20) === 0x65
      );
    case "int": {
      const value = parseDecimal(raw, INT_MAX + 1);
      if (value === undefined || value > INT_MAX || value < INT_MIN) {
        throw decodeError(header, field, raw, "is not a 32-bit integer (a Java int)");
      }
      return value;
    }
    case "long": {
      const value = parseDecimal(raw, Number.MAX_SAFE_INTEGER);
      if (value === undefined) {
        const why = isJavaLong(raw)
          ? "is a Java long beyond Number.MAX_SAFE_INTEGER, which a JS number cannot hold exactly"
          : "is not a Java long";
        throw decodeError(header, field, raw, why);
      }
      return value;
    }
  }
}

/**
 * `[+-]?[0-9]+` as a number, or undefined when `raw` is not that or its magnitude is above
 * `maxMagnitude` (at most 2^53, so every step of the sum is exact). No allocation.
 */
function parseDecimal(raw: string, maxMagnitude: number): number | undefined {
  const first = raw.charCodeAt(0);
  const negative = first === 0x2d; // "-"
  let i = negative || first === 0x2b ? 1 : 0; // "+"
  if (i >= raw.length) return undefined;
  let magnitude = 0;
  for (; i < raw.length; i++) {
    const digit = raw.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    magnitude = magnitude * 10 + digit;
    if (magnitude > maxMagnitude) return undefined;
  }
  return negative ? 0 - magnitude : magnitude; // 0 - 0 is +0: Java has no negative zero
}

/** True when Long.parseLong would accept `raw` (only called on the error path). */
function isJavaLong(raw: string): boolean {
  if (!/^[+-]?[0-9]+$/.test(raw)) return false;
  const value = BigInt(raw);
  return value >= -(2n ** 63n) && value < 2n ** 63n;
}

function decodeError(header: string, field: HeaderField, raw: unknown, why: string): ProtocolError {
  const got = raw === undefined || raw === null ? "" : ` (got ${quote(raw)})`;
  return new ProtocolError(`${header}.${field.property} (extFields key "${field.key}") ${why}${got}`);
}

function quote(value: unknown): string {
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "object" && value !== null) return Array.isArray(value) ? "an array" : "an object";
  if (typeof value !== "string") return String(value);
  const text = value.length > MAX_QUOTED_CHARS ? `${value.slice(0, MAX_QUOTED_CHARS)}…` : value;
  return JSON.stringify(text);
}
