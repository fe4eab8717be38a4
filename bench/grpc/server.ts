/**
 * The grpc baseline server: @grpc/grpc-js, insecure HTTP/2, the unary echo of
 * bench/lib/grpc-echo.ts answering each request with its own bytes.
 *
 * Usage: node dist/bench/grpc/server.js [--host 127.0.0.1] [--port 0]
 */
import * as grpc from "@grpc/grpc-js";
import { ECHO_CHANNEL_OPTIONS, ECHO_SERVICE } from "../lib/grpc-echo.js";
import { announceListening, parseListenArgs, stopOnRequest } from "../lib/server-lifecycle.js";

let requests = 0;

const { host, port } = parseListenArgs(process.argv.slice(2));
const server = new grpc.Server(ECHO_CHANNEL_OPTIONS);
server.addService(ECHO_SERVICE, {
  echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
    requests++;
    callback(null, call.request);
  },
});
server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, boundPort) => {
  if (err !== null) {
    process.stderr.write(`grpc server: ${err.message}\n`);
    process.exit(1);
  }
  announceListening(host, boundPort);
});
stopOnRequest(() => ({ requests }));
