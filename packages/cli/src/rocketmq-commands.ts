/**
 * `mqwire route`, `cluster`, `topic create|stats|list` and `offsets`: RocketMQ's admin calls as
 * `mqadmin` makes them (topicRoute, clusterList, updateTopic, topicStatus, topicList,
 * consumerProgress), with its option letters, through the public Admin client. Output is standard
 * JSON (fastjson's unquoted keys already turned into strings by the body parsers), indented, so
 * `JSON.parse` and `jq` read it; `topic list` prints one name per line, as mqadmin does.
 */
import type { Command } from "commander";
import { Admin, type ConsumeStats, InvalidArgumentError, Perm } from "mqwire";
import { addClientFlags, type ClientFlags, clientOptions, intFlag } from "./client-flags.js";
import { exitTwoOnUsageError, runAction } from "./exit-codes.js";

/** Writes `value` as indented JSON and a newline. */
function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Adds an admin command: client flags, exit code 2 on bad usage (an InvalidArgumentError from
 * `run` included), and an action that gets an Admin built from the flags and closed after it,
 * whatever happens.
 */
function adminCommand<A extends unknown[], O extends ClientFlags>(
  parent: Command,
  nameAndArgs: string,
  description: string,
  configure: (cmd: Command) => Command,
  run: (admin: Admin, opts: O, ...args: A) => Promise<void>,
): Command {
  const cmd = exitTwoOnUsageError(parent.command(nameAndArgs).description(description));
  addClientFlags(configure(cmd));
  cmd.action(async (...received: unknown[]) => {
    // commander passes the arguments, then the options, then the command itself.
    const args = received.slice(0, -2) as A;
    const opts = received.at(-2) as O;
    let admin: Admin | undefined;
    await runAction(
      cmd,
      async () => {
        admin = new Admin(clientOptions(opts));
        await run(admin, opts, ...args);
      },
      async () => admin?.close(),
    );
  });
  return cmd;
}

interface CreateFlags extends ClientFlags {
  cluster?: string;
  brokerAddr?: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  order?: boolean;
}

interface OffsetsFlags extends ClientFlags {
  topic?: string;
}

/** A group's progress with each queue's lag (`mqadmin consumerProgress`'s Diff column) and the total. */
function offsetsJson(group: string, topic: string | undefined, stats: ConsumeStats) {
  const queues = stats.queues.map((q) => ({
    topic: q.topic,
    brokerName: q.brokerName,
    queueId: q.queueId,
    brokerOffset: q.brokerOffset,
    consumerOffset: q.consumerOffset,
    lag: Math.max(0, q.brokerOffset - q.consumerOffset),
    lastTimestamp: q.lastTimestamp,
  }));
  return {
    group,
    ...(topic === undefined ? {} : { topic }),
    consumeTps: stats.consumeTps,
    lag: queues.reduce((sum, q) => sum + q.lag, 0),
    queues,
  };
}

/** Registers `route`, `cluster`, `topic create|stats|list` and `offsets` on `program`. */
export function registerAdminCommands(program: Command): void {
  adminCommand<[string], ClientFlags>(
    program,
    "route <topic>",
    "print a topic's route (TopicRouteData: queues per broker, broker addresses by id) as JSON",
    (cmd) => cmd,
    async (admin, _opts, topic) => printJson(await admin.route(topic)),
  );

  adminCommand<[], ClientFlags>(
    program,
    "cluster",
    "print the brokers and clusters the name server knows (ClusterInfo) as JSON",
    (cmd) => cmd,
    async (admin) => printJson(await admin.clusterInfo()),
  );

  const topic = exitTwoOnUsageError(
    program.command("topic").description("create a topic, show its queues' offsets, or list topics"),
  );

  adminCommand<[string], CreateFlags>(
    topic,
    "create <topic>",
    "create or update a topic on every master of a cluster or on one broker (mqadmin updateTopic); " +
      "with neither -c nor -b, on every master the name server knows. Prints the brokers created on",
    (cmd) =>
      cmd
        .option("-c, --cluster <name>", "create on every master of this cluster")
        .option("-b, --broker-addr <host:port>", "create on this broker only")
        .option("-r, --read-queue-nums <n>", "read queues", intFlag(1, 1024), 8)
        .option("-w, --write-queue-nums <n>", "write queues", intFlag(1, 1024), 8)
        .option(
          "-p, --perm <bits>",
          "permission: 2 write, 4 read, 6 read and write",
          intFlag(0, 15),
          Perm.READ | Perm.WRITE,
        )
        .option("-o, --order", "an ordered topic"),
    async (admin, opts, name) => {
      if (opts.cluster !== undefined && opts.brokerAddr !== undefined) {
        throw new InvalidArgumentError("give -c CLUSTER or -b BROKER, not both");
      }
      const created = {
        readQueueNums: opts.readQueueNums,
        writeQueueNums: opts.writeQueueNums,
        perm: opts.perm,
        order: opts.order === true,
      };
      const brokers = await admin.createTopic(name, {
        ...created,
        ...(opts.cluster === undefined ? {} : { cluster: opts.cluster }),
        ...(opts.brokerAddr === undefined ? {} : { brokerAddr: opts.brokerAddr }),
      });
      printJson({ topic: name, brokers, ...created });
    },
  );

  adminCommand<[string], ClientFlags>(
    topic,
    "stats <topic>",
    "print each queue's min and max offset and last store time (mqadmin topicStatus) as JSON",
    (cmd) => cmd,
    async (admin, _opts, name) => printJson({ topic: name, ...(await admin.topicStats(name)) }),
  );

  adminCommand<[], ClientFlags>(
    topic,
    "list",
    "print every topic the name server knows, one per line, sorted",
    (cmd) => cmd,
    async (admin) => {
      const names = (await admin.topics()).sort();
      process.stdout.write(names.map((n) => `${n}\n`).join(""));
    },
  );

  adminCommand<[string], OffsetsFlags>(
    program,
    "offsets <group>",
    "print a consumer group's progress (mqadmin consumerProgress) as JSON: per queue the broker's " +
      "max offset, the group's committed offset and the lag between them, and the total lag",
    (cmd) =>
      cmd.option(
        "--topic <topic>",
        "only this topic's queues (default: every topic the brokers hold for the group)",
      ),
    async (admin, opts, group) =>
      printJson(offsetsJson(group, opts.topic, await admin.consumeStats(group, opts.topic))),
  );
}
