/**
 * mqwire's public API: RocketMQ's remoting (RemotingServer, RemotingClient, RemotingCommand)
 * over a Qpid-style network driver and protocol engine. The only public barrel.
 */

export type { Codec, DecoderLimits, FrameDecoder, SniffResult } from "./codec/codec.js";
export {
  type CommandInit,
  FLAG_ONEWAY,
  FLAG_RESPONSE,
  LanguageCode,
  type LanguageName,
  languageFromName,
  languageName,
  nextOpaque,
  parseSerializeType,
  RemotingCommand,
  ResponseCode,
  SerializeType,
  serializeTypeName,
} from "./codec/remoting-command.js";
export { decodeFrame, encodeFrame, rocketmqCodec } from "./codec/rocketmq-codec.js";
export type { FrameHandler } from "./engine/frame-handler.js";
export { ProtocolEngine } from "./engine/protocol-engine.js";
export * from "./errors.js";
export { type CaseResult, runInteropCases } from "./interop/interop-cases.js";
export { InteropCode, registerInteropClient, registerInteropService } from "./interop/interop-service.js";
export { defaultLogger, type Logger, silentLogger } from "./logger.js";
export { diagnostics } from "./metrics.js";
export * from "./options.js";
export { computeAclSignature, createAclSigningHook } from "./remoting/acl-hook.js";
export type { RemotingChannel } from "./remoting/channel.js";
export { AbortProcessError, type RequestContext, RequestPipeline, type RpcHook } from "./remoting/hooks.js";
export type { InvokeCallback, InvokeOptions, RemotingEvents } from "./remoting/invoke-types.js";
export type {
  ProcessorFunction,
  ProcessorOptions,
  ProcessorResult,
  RequestProcessor,
} from "./remoting/processor.js";
export { RemotingClient } from "./remoting/remoting-client.js";
export { RemotingServer, type ServerOptions, type ShutdownOptions } from "./remoting/remoting-server.js";
export {
  defineWorkerProcessor,
  type WireCommand,
  type WorkerPoolOptions,
  WorkerPoolProcessor,
} from "./remoting/worker-processor.js";
export {
  createMemoryPair,
  defaultMemoryNetwork,
  MemoryAcceptor,
  MemoryConnector,
  MemoryNetwork,
} from "./transport/memory.js";
export { SocketTransport } from "./transport/socket-transport.js";
export {
  parseSocksProxyConfig,
  SocksConnector,
  type SocksProxyConfig,
  type SocksProxyEntry,
} from "./transport/socks.js";
export { TcpAcceptor, TcpConnector } from "./transport/tcp.js";
export { type TlsClientOptions, TlsConnector, wrapClientTls } from "./transport/tls.js";
export {
  acceptWithTlsMode,
  TlsAcceptor,
  type TlsServerMode,
  type TlsServerOptions,
} from "./transport/tls-server.js";
export type {
  Acceptor,
  Address,
  Connector,
  IdleKind,
  IdleOptions,
  Listener,
  TcpOptions,
  Transport,
} from "./transport/transport.js";
