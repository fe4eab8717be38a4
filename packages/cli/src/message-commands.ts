/**
 * `mqwire send` and `mqwire consume`: messages through a real cluster with the public Producer and
 * PullConsumer, one JSON line per message, in the manner of the RocketMQ kit's `java-client.sh send`
 * and `consume` (and `mqadmin sendMessage`). `consume` commits the offsets after the messages it
 * printed however it stops (the count, the time-out, SIGINT/SIGTERM, a closed stdout), so the next
 * run of the group goes on from there.
 */
import { once } from "node:events";
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { InvalidArgumentError, type Message, type MessageExt, Producer, PullConsumer } from "mqwire";
import {
  addClientFlags,
  type ClientFlags,
  clientOptions,
  collect,
  collectKeyValue,
  intFlag,
} from "./client-flags.js";
import { bodyToJson } from "./command-json.js";
import { ExitCode, exitTwoOnUsageError, runAction } from "./exit-codes.js";

/** The producer group of `send` when `--group` is absent (RocketMQ reserves DEFAULT_PRODUCER). */
export const DEFAULT_CLI_PRODUCER_GROUP = "mqwire_cli_producer";

/** `send`'s flags: `--key` is a message key here, the TLS key is `--tls-key`. */
interface SendFlags extends Omit<ClientFlags, "key"> {
  body?: string;
  bodyFile?: string;
  tag?: string;
  key?: string[];
  property?: [string, string][];
  count: number;
  group: string;
}

interface ConsumeFlags extends ClientFlags {
  group: string;
  count?: number;
  fromBeginning?: boolean;
  subscription: string;
  timeoutS?: number;
}

/** Writes one line to stdout, waiting for `drain` when the pipe is full (or until `signal` aborts). */
async function writeLine(text: string, signal?: AbortSignal): Promise<void> {
  if (process.stdout.write(`${text}\n`)) return;
  await once(process.stdout, "drain", { signal }).catch(() => undefined);
}

/** The body of message `index`: `{i}` in `--body` becomes the index, as in the kit's java-client. */
function bodyMaker(opts: SendFlags): (index: number) => Buffer {
  if ((opts.body === undefined) === (opts.bodyFile === undefined)) {
    throw new InvalidArgumentError("give exactly one of --body TEXT and --body-file FILE");
  }
  if (opts.bodyFile !== undefined) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(opts.bodyFile === "-" ? 0 : opts.bodyFile);
    } catch (err) {
      throw new InvalidArgumentError(`--body-file: ${(err as Error).message}`, { cause: err });
    }
    return () => bytes;
  }
  const text = opts.body ?? ""; // given: exactly one of the two was checked above
  return text.includes("{i}")
    ? (i) => Buffer.from(text.replaceAll("{i}", String(i)))
    : () => Buffer.from(text);
}

/** Registers `mqwire send TOPIC`. */
export function registerSend(program: Command): void {
  const cmd = exitTwoOnUsageError(
    program
      .command("send")
      .description(
        "send messages to a topic (created through TBW102 if it does not exist) and print one JSON SendResult per line",
      )
      .argument("<topic>", "the topic")
      .option("--body <text>", "message body as UTF-8 text; {i} becomes the message's index (0, 1, …)")
      .option("--body-file <file>", "message body from a file, as bytes ('-': stdin)")
      .option("--tag <tag>", "the message's tag")
      .option("-k, --key <key>", "a key (repeatable)", collect)
      .option("--property <k=v>", "a user property (repeatable)", collectKeyValue)
      .option("--count <n>", "messages to send, one after the other", intFlag(1), 1)
      .option("-g, --group <group>", "producer group", DEFAULT_CLI_PRODUCER_GROUP),
  );
  addClientFlags(cmd, "tls-key").action(async (topic: string, opts: SendFlags) => {
    let producer: Producer | undefined;
    await runAction(
      cmd,
      async () => {
        const body = bodyMaker(opts);
        const options = clientOptions({ ...opts, key: undefined });
        producer = new Producer({
          ...options,
          group: opts.group,
          ...(opts.timeoutMs === undefined ? {} : { sendTimeoutMs: opts.timeoutMs }),
        });
        for (let i = 0; i < opts.count; i++) {
          const message: Message = { topic, body: body(i) };
          if (opts.tag !== undefined) message.tags = opts.tag;
          if (opts.key !== undefined) message.keys = opts.key;
          if (opts.property !== undefined) message.properties = Object.fromEntries(opts.property);
          await writeLine(JSON.stringify(await producer.send(message)));
        }
      },
      async () => producer?.close(),
    );
  });
}

/** A consumed message as `consume` prints it; the body as `call` prints bodies. */
function messageJson(m: MessageExt): Record<string, unknown> {
  return {
    topic: m.topic,
    tags: m.tags ?? null,
    keys: m.keys,
    properties: m.properties,
    queue: { brokerName: m.brokerName ?? null, queueId: m.queueId },
    queueOffset: m.queueOffset,
    msgId: m.msgId,
    offsetMsgId: m.offsetMsgId,
    bornTimestamp: m.bornTimestamp,
    storeTimestamp: m.storeTimestamp,
    ...bodyToJson(m.body),
    // Only when the consumer could not inflate it (an unknown compression type): the bytes are as stored.
    ...(m.bodyCompression === undefined ? {} : { bodyCompression: m.bodyCompression }),
  };
}

/** Registers `mqwire consume TOPIC --group G`. */
export function registerConsume(program: Command): void {
  const cmd = exitTwoOnUsageError(
    program
      .command("consume")
      .description(
        "read a topic's messages as a consumer group and print one JSON line per message; stops at " +
          "--count, after --timeout-s, or on Ctrl-C/SIGTERM, and commits the group's offsets in every case",
      )
      .argument("<topic>", "the topic")
      .requiredOption("-g, --group <group>", "consumer group (its committed offsets say where to start)")
      .option("--count <n>", "stop after this many messages", intFlag(1))
      .option("--from-beginning", "start every queue at its first offset, whatever the group committed")
      .option("--subscription <expr>", "tag expression: '*' or 'TagA || TagB'", "*")
      .option("--timeout-s <s>", "stop after this many seconds (default: no limit)", intFlag(1))
      .addHelpText(
        "after",
        "\nWithout --from-beginning each queue starts at the group's committed offset, and a group\n" +
          "with no committed offset starts at the queue's first offset (not at its last, the default\n" +
          "of RocketMQ's Java consumers). Exit code 1 when --count was not reached within --timeout-s.",
      ),
  );
  addClientFlags(cmd).action(async (topic: string, opts: ConsumeFlags) => {
    const stop = new AbortController();
    // Set in callbacks, so declared wide: TypeScript would narrow a plain initialiser to "end".
    let stoppedBy = "end" as "count" | "timeout" | "signal" | "end";
    const onSignal = (): void => {
      stoppedBy = "signal";
      stop.abort();
    };
    // once: a second Ctrl-C kills at once, should the commit hang on an unreachable broker.
    process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
    // A reader that went away (`| head`): stop, and commit what was printed.
    const onStdoutError = (): void => stop.abort();
    process.stdout.on("error", onStdoutError);
    const timer =
      opts.timeoutS === undefined
        ? undefined
        : setTimeout(() => {
            stoppedBy = "timeout";
            stop.abort();
          }, opts.timeoutS * 1000);
    let consumer: PullConsumer | undefined;
    let printed = 0;
    await runAction(
      cmd,
      async () => {
        consumer = new PullConsumer({ ...clientOptions(opts), group: opts.group });
        const messages = consumer.messages(topic, {
          subscription: opts.subscription,
          from: opts.fromBeginning ? "first" : "committed",
          whenNoCommitted: "first",
          signal: stop.signal,
        });
        // The stream commits on return(): for-await calls it on break and on a throw in this
        // body, and the stream calls it itself when the signal aborts.
        for await (const m of messages) {
          await writeLine(JSON.stringify(messageJson(m)), stop.signal);
          printed++;
          if (opts.count !== undefined && printed >= opts.count) {
            stoppedBy = "count";
            break;
          }
        }
      },
      async () => {
        clearTimeout(timer);
        process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
        process.stdout.off("error", onStdoutError);
        await consumer?.close();
      },
    );
    if (stoppedBy === "timeout" && opts.count !== undefined && process.exitCode === undefined) {
      process.stderr.write(
        `mqwire: consumed only ${printed} of ${opts.count} messages before the ${opts.timeoutS} s time-out\n`,
      );
      process.exitCode = ExitCode.FAILURE;
    }
  });
}
