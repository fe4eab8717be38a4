/**
 * The types that public signatures use are exported from the barrel, so users can name them and
 * the API reference links them; typedoc.json hides only the TCP test seam. The type list fails
 * to compile if one of them stops being exported.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type {
  AclCredentials,
  CompressionName,
  ConsumeFromWhere,
  ConsumeType,
  DecodeMessagesOptions,
  EncodeBatchOptions,
  EncodedBatch,
  ExpressionType,
  FieldValue,
  FrameSink,
  GroupMembership,
  HeaderField,
  HeaderFieldSpec,
  HeaderFieldType,
  HostAddress,
  InteropRunOptions,
  MemoryDuplex,
  MemoryPairOptions,
  MessageModel,
  OffsetMsgIdInfo,
  ProducerData,
  ProtocolEngineOptions,
  QueueState,
  ResolvedRocketmqClientOptions,
  ResolvedTlsClientOptions,
  ResolvedTlsServerOptions,
  RocketmqCodec,
  RocketmqCodecOptions,
  RouteTable,
  SocketTransportOptions,
  SocksConnectorOptions,
  SocksProxyRule,
  TransportEvents,
  TypedRequest,
  UniqIdGenerator,
  UniqIdGeneratorOptions,
  UniqIdInfo,
  WrapTlsOptions,
} from "../../src/index.js";
import { DEFAULT_MAX_DECOMPRESSED_BODY_BYTES } from "../../src/index.js";
import { repoRoot } from "../helpers/vectors.js";

/** Every type typedoc.json used to hide (ResolvedClientOptions of the RocketMQ clients renamed). */
export type FormerlyHiddenTypes = [
  AclCredentials,
  CompressionName,
  ConsumeFromWhere,
  ConsumeType,
  DecodeMessagesOptions,
  EncodeBatchOptions,
  EncodedBatch,
  ExpressionType,
  FieldValue<HeaderFieldSpec>,
  FrameSink,
  GroupMembership,
  HeaderField,
  HeaderFieldSpec,
  HeaderFieldType,
  HostAddress,
  InteropRunOptions,
  MemoryDuplex,
  MemoryPairOptions,
  MessageModel,
  OffsetMsgIdInfo,
  ProducerData,
  ProtocolEngineOptions<unknown>,
  QueueState,
  ResolvedRocketmqClientOptions,
  ResolvedTlsClientOptions,
  ResolvedTlsServerOptions,
  RocketmqCodec,
  RocketmqCodecOptions,
  RouteTable,
  SocketTransportOptions,
  SocksConnectorOptions,
  SocksProxyRule,
  TransportEvents,
  TypedRequest<unknown>,
  UniqIdGenerator,
  UniqIdGeneratorOptions,
  UniqIdInfo,
  WrapTlsOptions,
];

test("typedoc.json hides only TcpDeps, the TCP transport's test seam", () => {
  const config = JSON.parse(readFileSync(join(repoRoot(), "typedoc.json"), "utf8")) as {
    intentionallyNotExported: string[];
    treatWarningsAsErrors: boolean;
  };
  assert.deepEqual(config.intentionallyNotExported, ["TcpDeps"]);
  assert.equal(config.treatWarningsAsErrors, true);
});

test("the default a documented option links to is exported too", () => {
  const options: DecodeMessagesOptions = { maxDecompressedBytes: DEFAULT_MAX_DECOMPRESSED_BODY_BYTES };
  assert.equal(options.maxDecompressedBytes, 64 * 1024 * 1024);
});
