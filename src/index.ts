/**
 * mqwire's public API: RocketMQ's remoting (RemotingServer, RemotingClient, RemotingCommand)
 * over a Qpid-style network driver and protocol engine. The only public barrel.
 */

export { CONSUMER_CONNECTIONS, PRODUCER_CONNECTIONS } from "./broker-connection-gauges.js";
export {
  type CallResult,
  type CallsSnapshot,
  type CodeStats,
  type LatencySummary,
  MAX_METRICS_ROWS,
  type MetricsSnapshot,
} from "./call-metrics.js";
export { type Clock, oncePerRun, systemClock } from "./clock.js";
export type { Codec, DecoderLimits, FrameDecoder, FrameSink, SniffResult } from "./codec/codec.js";
export { jsonObjectKeyOrder } from "./codec/fastjson.js";
export { jsonHeaderText } from "./codec/json-header.js";
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
  SerializeType,
  serializeTypeName,
} from "./codec/remoting-command.js";
export {
  decodeFrame,
  encodeFrame,
  type RocketmqCodec,
  type RocketmqCodecOptions,
  rocketmqCodec,
} from "./codec/rocketmq-codec.js";
export { diagnostics } from "./diagnostics.js";
export type { ProtocolEngineOptions } from "./engine/engine-options.js";
export type { FrameHandler } from "./engine/frame-handler.js";
export { ProtocolEngine } from "./engine/protocol-engine.js";
export * from "./errors.js";
export { type CaseResult, type InteropRunOptions, runInteropCases } from "./interop/interop-cases.js";
export { InteropCode, registerInteropClient, registerInteropService } from "./interop/interop-service.js";
export { defaultLogger, type Logger, silentLogger } from "./logger.js";
export {
  BYTES_RECEIVED,
  BYTES_SENT,
  CALLS_IN_FLIGHT,
  CONNECTIONS,
  CONNECTIONS_OPENED,
  enableOpenTelemetry,
  type OpenTelemetryBinding,
  type OpenTelemetryOptions,
  type OtelAttributes,
  type OtelBatchResult,
  type OtelHistogram,
  type OtelInstrumentOptions,
  type OtelMeter,
  type OtelMeterProvider,
  type OtelObservable,
  REQUESTS_IN_FLIGHT,
  RPC_CALL_LATENCY,
  RPC_LATENCY,
} from "./opentelemetry.js";
// Options: their types and DEFAULT_* values; validation (resolve*Options) stays internal.
export {
  DEFAULT_CHANNEL_MAX_IDLE_MS,
  DEFAULT_CHANNEL_MAX_PENDING_REQUESTS,
  DEFAULT_CLIENT_ASYNC_PERMITS,
  DEFAULT_CLIENT_ONEWAY_PERMITS,
  DEFAULT_CLOSE_GRACE_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_FRAME_TIMEOUT_MS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_EXT_FIELDS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_NAME_SERVER_SCAN_MS,
  DEFAULT_PROCESSOR_CONCURRENCY,
  DEFAULT_PROCESSOR_MAX_QUEUE,
  DEFAULT_PROXY_PROTOCOL,
  DEFAULT_RECONNECT_BASE_MS,
  DEFAULT_RECONNECT_MAX_MS,
  DEFAULT_SERVER_ASYNC_PERMITS,
  DEFAULT_SERVER_ONEWAY_PERMITS,
  DEFAULT_SHUTDOWN_GRACE_MS,
  DEFAULT_TIMEOUT_MS,
  type RemotingClientOptions,
  type RemotingOptions,
  type RemotingServerOptions,
  type ResolvedClientOptions,
  type ResolvedRemotingOptions,
  type ResolvedServerOptions,
} from "./options.js";
export { type AclCredentials, computeAclSignature, createAclSigningHook } from "./remoting/acl-hook.js";
export {
  type AclAccount,
  type AclVerifyingHookOptions,
  checkAclSignature,
  createAclVerifyingHook,
} from "./remoting/acl-verify.js";
export type { RemotingChannel } from "./remoting/channel.js";
export { type RequestContext, RequestPipeline, type RpcHook } from "./remoting/hooks.js";
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
// RocketMQ's protocol above remoting: codes, headers, bodies, messages, clients.
export {
  Admin,
  type CreateTopicOptions,
} from "./rocketmq/admin.js";
export {
  type BrokerData,
  buildSubscriptionData,
  type ClusterInfo,
  type ConsumeFromWhere,
  type ConsumeQueueStats,
  type ConsumerData,
  type ConsumeStats,
  type ConsumeType,
  type ExpressionType,
  encodeHeartbeatData,
  type HeartbeatData,
  type MessageModel,
  type ProducerData,
  parseClusterInfo,
  parseConsumerIdList,
  parseConsumeStats,
  parseHeartbeatData,
  parseRocketmqJson,
  parseTopicList,
  parseTopicRouteData,
  parseTopicStatsTable,
  type QueueData,
  type SubscriptionData,
  type TopicQueueStats,
  type TopicRouteData,
  type TopicStats,
  toStandardJson,
} from "./rocketmq/bodies.js";
export {
  type ClientOptions,
  DEFAULT_CLIENT_VERSION,
  parseNameServerList,
  type ResolvedRocketmqClientOptions,
} from "./rocketmq/client-options.js";
export { requestCodeLabel, responseCodeLabel } from "./rocketmq/code-labels.js";
export {
  describeResponseCode,
  parseRequestCode,
  parseResponseCode,
  RequestCode,
  type RequestCodeName,
  ResponseCode,
  type ResponseCodeName,
  requestCodeName,
  responseCodeName,
} from "./rocketmq/codes.js";
export { type CompressionName, compressBody, MessageSysFlag } from "./rocketmq/compression.js";
export {
  type CustomHeader,
  defineHeader,
  type FieldValue,
  type HeaderField,
  type HeaderFieldSpec,
  type HeaderFieldType,
  type HeaderValues,
} from "./rocketmq/custom-header.js";
export * as headers from "./rocketmq/headers.js";
export {
  decodeProperties,
  encodeProperties,
  type Message,
  MessageProperty,
  validateMessage,
} from "./rocketmq/message.js";
export { type EncodeBatchOptions, type EncodedBatch, encodeBatch } from "./rocketmq/message-batch.js";
export {
  DEFAULT_MAX_DECOMPRESSED_BODY_BYTES,
  type DecodeMessagesOptions,
  decodeMessages,
  type MessageExt,
} from "./rocketmq/message-decoder.js";
export {
  createOffsetMsgId,
  createUniqIdGenerator,
  decodeOffsetMsgId,
  type HostAddress,
  type OffsetMsgIdInfo,
  parseUniqId,
  type UniqIdGenerator,
  type UniqIdGeneratorOptions,
  type UniqIdInfo,
} from "./rocketmq/message-id.js";
export { MessageStream, type MessageStreamOptions, type QueueState } from "./rocketmq/message-stream.js";
export { type GroupMembership, MQClient, type TypedRequest } from "./rocketmq/mq-client.js";
export { mqVersionName } from "./rocketmq/mq-version.js";
export {
  Producer,
  type ProducerOptions,
  type SendOptions,
  type SendResult,
  type SendStatus,
} from "./rocketmq/producer.js";
export {
  PullConsumer,
  type PullConsumerOptions,
  type PullOptions,
  type PullResult,
  type PullStatus,
} from "./rocketmq/pull-consumer.js";
export { type MessageQueue, Perm, type RouteTable } from "./rocketmq/topic-route.js";
export type { ProxiedEndpoints } from "./transport/address.js";
export {
  createMemoryPair,
  defaultMemoryNetwork,
  MemoryAcceptor,
  MemoryConnector,
  type MemoryDuplex,
  MemoryNetwork,
  type MemoryPairOptions,
} from "./transport/memory.js";
export {
  type ProxyAcceptOptions,
  ProxyProtocolAcceptor,
  type ProxyProtocolMode,
  readProxyHeader,
} from "./transport/proxy-acceptor.js";
export {
  type ProxyEndpoint,
  type ProxyHeader,
  ProxyHeaderParser,
  type ProxyParseResult,
  type ProxyTlv,
  type ProxyTransportProtocol,
  parseProxyHeader,
} from "./transport/proxy-protocol.js";
export { SocketTransport, type SocketTransportOptions } from "./transport/socket-transport.js";
export {
  parseSocksProxyConfig,
  SocksConnector,
  type SocksConnectorOptions,
  type SocksProxyConfig,
  type SocksProxyEntry,
  type SocksProxyRule,
} from "./transport/socks.js";
export { TcpAcceptor, TcpConnector } from "./transport/tcp.js";
export {
  type ResolvedTlsClientOptions,
  type TlsClientOptions,
  TlsConnector,
  type WrapTlsOptions,
  wrapClientTls,
} from "./transport/tls.js";
export {
  acceptWithTlsMode,
  TlsAcceptor,
  type TlsServerMode,
  type TlsServerOptions,
} from "./transport/tls-server.js";
export type { ResolvedTlsServerOptions } from "./transport/tls-server-options.js";
export type {
  Acceptor,
  Address,
  Connector,
  IdleKind,
  IdleOptions,
  Listener,
  TcpOptions,
  Transport,
  TransportEvents,
} from "./transport/transport.js";
