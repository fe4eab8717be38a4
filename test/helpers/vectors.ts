/**
 * Loads the Java-encoded RocketMQ vectors (test/fixtures/vectors, a copy of the project's shared
 * vectors kept in the repository so that a fresh clone's `npm test` has them; env
 * MQWIRE_VECTORS_DIR points elsewhere). Missing vectors throw: interop tests must fail, never skip.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { languageFromName, RemotingCommand, SerializeType } from "../../src/codec/remoting-command.js";

/** A command as the vector files describe it (commands.jsonl, decoded.jsonl, `<name>.<type>.json`). */
export interface VectorCommand {
  serializeType: "JSON" | "ROCKETMQ";
  code: number;
  language: string;
  version: number;
  opaque: number;
  flag: number;
  remark: string | null;
  /** Values are null where Java decoded an empty ROCKETMQ string to null. */
  extFields: Record<string, string | null> | null;
  body: string | null;
}

/** One frame: what was encoded, its bytes, and what Java decoded from them. */
export interface Vector {
  name: string;
  input: VectorCommand;
  /** Key order of extFields on the wire (the encoder's order); null when extFields is null. */
  extFieldsOrder: string[] | null;
  hex: string;
  decoded: VectorCommand;
  headerHex?: string;
  headerText?: string;
}

/** The repository root: the nearest directory above this file holding package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error("no package.json above the test helpers");
    dir = parent;
  }
}

/** The vectors directory (holding rocketmq/ and rocketmq-random/); throws when it is missing. */
export function vectorsDir(): string {
  const dir = process.env.MQWIRE_VECTORS_DIR ?? resolve(repoRoot(), "test/fixtures/vectors");
  for (const sub of ["rocketmq/index.json", "rocketmq-random/frames.hex"]) {
    if (!existsSync(join(dir, sub))) {
      throw new Error(
        `RocketMQ vectors not found: ${join(dir, sub)} is missing. Restore test/fixtures/vectors or ` +
          "set MQWIRE_VECTORS_DIR to the directory holding rocketmq/ and rocketmq-random/.",
      );
    }
  }
  return dir;
}

function readLines(file: string): string[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim().length > 0);
}

/** The 20 named vectors of rocketmq/index.json. */
export function loadRocketmqVectors(): Vector[] {
  const dir = join(vectorsDir(), "rocketmq");
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as {
    vectors: { name: string; serializeType: string; json: string; hex: string }[];
  };
  return index.vectors.map((entry) => {
    const d = JSON.parse(readFileSync(join(dir, entry.json), "utf8"));
    return {
      name: `${entry.name} ${entry.serializeType}`,
      input: d as VectorCommand,
      extFieldsOrder: d.extFieldsOrder ?? null,
      hex: readFileSync(join(dir, entry.hex), "utf8").trim(),
      decoded: d.decoded as VectorCommand,
      headerHex: d.frame?.headerHex,
      headerText: d.frame?.headerText,
    };
  });
}

/** The 40 frames of rocketmq-random (commands.jsonl, frames.hex, decoded.jsonl line by line). */
export function loadRandomVectors(): Vector[] {
  const dir = join(vectorsDir(), "rocketmq-random");
  const commands = readLines(join(dir, "commands.jsonl"));
  const frames = readLines(join(dir, "frames.hex"));
  const decoded = readLines(join(dir, "decoded.jsonl"));
  if (commands.length !== frames.length || frames.length !== decoded.length) {
    throw new Error("rocketmq-random: commands.jsonl, frames.hex and decoded.jsonl differ in length");
  }
  return commands.map((line, i) => {
    const input = JSON.parse(line);
    return {
      name: `random #${String(i).padStart(2, "0")} ${input.serializeType} code ${input.code}`,
      input: input as VectorCommand,
      extFieldsOrder: input.extFieldsOrder ?? null,
      hex: frames[i]!.trim(),
      decoded: JSON.parse(decoded[i]!) as VectorCommand,
    };
  });
}

/** Builds the command a vector's encoder saw, extFields in wire order. */
export function vectorCommand(v: Vector): RemotingCommand {
  const input = v.input;
  const language = languageFromName(input.language);
  if (language === undefined) throw new Error(`vector ${v.name}: unknown language ${input.language}`);
  let extFields: Map<string, string> | null = null;
  if (input.extFields !== null) {
    extFields = new Map();
    for (const key of v.extFieldsOrder ?? []) extFields.set(key, input.extFields[key] as string);
  }
  return new RemotingCommand({
    code: input.code,
    language,
    version: input.version,
    opaque: input.opaque,
    flag: input.flag,
    remark: input.remark,
    extFields,
    body: input.body === null ? null : Buffer.from(input.body, "base64"),
    serializeType: input.serializeType === "ROCKETMQ" ? SerializeType.ROCKETMQ : SerializeType.JSON,
  });
}
