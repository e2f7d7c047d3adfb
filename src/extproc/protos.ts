/**
 * Loads Envoy's ext_proc service definition from the API protos that ship in @grpc/grpc-js-xds
 * (deps/, about Envoy 1.31-1.32). Load options match scripts/gen-types.js, so the generated types
 * in src/generated describe exactly the objects grpc-js hands us.
 */
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from '../generated/external_processor';

export const EXT_PROC_PROTO = 'envoy/service/ext_proc/v3/external_processor.proto';

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

export function envoyProtoIncludeDirs(): string[] {
  const deps = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  return ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(deps, d));
}

let cached: ProtoGrpcType | undefined;

/** The loaded ext_proc package (cached: loading takes ~150 ms). */
export function extProcPackage(): ProtoGrpcType {
  if (!cached) {
    const def = protoLoader.loadSync(EXT_PROC_PROTO, {
      ...LOADER_OPTIONS,
      includeDirs: envoyProtoIncludeDirs(),
    });
    cached = grpc.loadPackageDefinition(def) as unknown as ProtoGrpcType;
  }
  return cached;
}

export function externalProcessorService(): grpc.ServiceDefinition {
  return extProcPackage().envoy.service.ext_proc.v3.ExternalProcessor.service;
}
