/**
 * The grpc baseline's service: one unary method echoing its request. Defined by hand, with
 * identity serializers over Buffer, so no .proto file, proto-loader or protobuf encoding sits in
 * the measurement: what is measured is grpc-js's own stack (HTTP/2 framing, call objects,
 * metadata), the one Node users know.
 */
import type { ChannelOptions, ServiceDefinition } from "@grpc/grpc-js";

/** The method's HTTP/2 path. */
export const ECHO_PATH = "/mqwire.bench.Echo/Echo";

/** Bytes pass through untouched in both directions. */
export function identity(buffer: Buffer): Buffer {
  return buffer;
}

/** The service definition `server.addService` takes; the method's key is `echo`. */
export const ECHO_SERVICE: ServiceDefinition = {
  echo: {
    path: ECHO_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

/** Channel options of both ends: no message size cap (the 1 MiB scenario) and no keepalive noise. */
export const ECHO_CHANNEL_OPTIONS: ChannelOptions = {
  "grpc.max_receive_message_length": -1,
  "grpc.max_send_message_length": -1,
};
