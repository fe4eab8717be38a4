// The worker module of examples/worker-threads.mjs: runs in a worker thread, never on the event
// loop. Its default export is made with defineWorkerProcessor.
import { pbkdf2Sync } from "node:crypto";
import { defineWorkerProcessor, RemotingCommand, ResponseCode } from "mqwire";

export default defineWorkerProcessor((request) => {
  const iterations = Number(request.getExt("iterations") ?? 100_000);
  // CPU-bound on purpose: a password hash with a deliberately high iteration count.
  const hash = pbkdf2Sync(request.body ?? Buffer.alloc(0), "example-salt", iterations, 32, "sha256");
  return RemotingCommand.createResponse(ResponseCode.SUCCESS, "hashed", {
    body: Buffer.from(hash.toString("hex")),
  });
});
