/**
 * `mqwire decode` and `mqwire encode`: hex frames <-> JSON lines, one item per line, from stdin
 * or `--file`. A bad line is reported on stderr as `line N: CODE: message` and skipped; the exit
 * code is 1 when any line failed.
 */

import { once } from "node:events";
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import type { Command } from "commander";
import { decodeFrame, encodeFrame, InvalidArgumentError, isMqwireError, MalformedFrameError } from "mqwire";
import { commandToJsonLine, parseCommandJson } from "./command-json.js";

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** One hex frame (length field included) to one JSON line. */
function decodeLine(line: string): string {
  if (!HEX.test(line)) throw new InvalidArgumentError("not an even-length hex string");
  return commandToJsonLine(decodeFrame(Buffer.from(line, "hex")));
}

/** One JSON command to one lowercase hex frame. */
function encodeLine(line: string): string {
  return encodeFrame(parseCommandJson(line)).toString("hex");
}

function describe(err: unknown): string {
  if (err instanceof MalformedFrameError) return `${err.code}: ${err.reason}: ${err.message}`;
  if (isMqwireError(err)) return `${err.code}: ${err.message}`;
  return `ERROR: ${err instanceof Error ? err.message : String(err)}`;
}

/**
 * Maps every non-blank line of `input` (trimmed) through `convert`, writing results to `output`
 * with back-pressure and failures to `errors`. Returns the number of failed lines.
 */
export async function convertLines(
  input: Readable,
  output: Writable,
  errors: Writable,
  convert: (line: string) => string,
): Promise<number> {
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  let failed = 0;
  for await (const raw of lines) {
    lineNo++;
    const line = raw.trim();
    if (line.length === 0) continue;
    let result: string;
    try {
      result = convert(line);
    } catch (err) {
      failed++;
      errors.write(`line ${lineNo}: ${describe(err)}\n`);
      continue;
    }
    if (!output.write(`${result}\n`)) await once(output, "drain");
  }
  return failed;
}

async function run(file: string | undefined, convert: (line: string) => string): Promise<void> {
  let input: Readable = process.stdin;
  if (file !== undefined) {
    input = createReadStream(file);
    await once(input, "open"); // rejects with ENOENT and the like before any line is read
  }
  const failed = await convertLines(input, process.stdout, process.stderr, convert);
  if (failed > 0) process.exitCode = 1;
}

/** Registers `mqwire decode [--file F]`. */
export function registerDecode(program: Command): void {
  program
    .command("decode")
    .description(
      "decode RocketMQ frames: one hex frame per line (with its 4-byte length) in, one JSON command per line out",
    )
    .option("-f, --file <path>", "read frames from a file instead of stdin")
    .action(async (opts: { file?: string }) => run(opts.file, decodeLine));
}

/** Registers `mqwire encode [--file F]`. */
export function registerEncode(program: Command): void {
  program
    .command("encode")
    .description(
      "encode RocketMQ frames: one JSON command per line in (keys as `decode` prints, plus optional " +
        "extFieldsOrder; language by name or number; body base64), one hex frame per line out",
    )
    .option("-f, --file <path>", "read commands from a file instead of stdin")
    .action(async (opts: { file?: string }) => run(opts.file, encodeLine));
}
