/**
 * gRPC side streams to ext_proc servers (`envoy_grpc.cluster_name`), one grpc-js client per gRPC
 * cluster, shared by all filter instances like Envoy's async client cache. Each upstream attempt
 * opens its own `ExternalProcessor/Process` bidi stream (client_impl.cc kExternalMethod).
 */
import * as grpc from '@grpc/grpc-js';
import { extProcPackage } from '../../src/extproc/protos';
import type { ExternalProcessorClient } from '../../src/generated/envoy/service/ext_proc/v3/ExternalProcessor';
import type { ProcessingRequest } from '../../src/generated/envoy/service/ext_proc/v3/ProcessingRequest';
import type { ProcessingResponse__Output } from '../../src/generated/envoy/service/ext_proc/v3/ProcessingResponse';
import type { ClusterConfig } from './bootstrap';
import type { Knobs } from './knobs';

export type ProcessStream = grpc.ClientDuplexStream<ProcessingRequest, ProcessingResponse__Output>;

export class ExtProcClients {
  private readonly clients = new Map<string, ExternalProcessorClient>();

  constructor(
    private readonly clusters: Map<string, ClusterConfig>,
    private readonly knobs: Knobs,
  ) {}

  /** Opens a stream, or returns an Error when the cluster is missing or unusable (§3.6). */
  open(clusterName: string, authority?: string): ProcessStream | Error {
    const cluster = this.clusters.get(clusterName);
    if (!cluster || cluster.endpoints.length === 0)
      return new Error(`ext_proc cluster '${clusterName}' not found`);
    let client = this.clients.get(clusterName);
    if (!client) {
      const ep = cluster.endpoints[0];
      if (!ep) return new Error(`ext_proc cluster '${clusterName}' has no endpoint`);
      const host = ep.kind === 'socket' ? (this.knobs.hosts[ep.host] ?? ep.host) : '';
      const target =
        ep.kind === 'pipe'
          ? `unix:${ep.path}`
          : host.includes(':')
            ? `ipv6:[${host}]:${ep.port}`
            : `${host}:${ep.port}`;
      const creds = cluster.tls
        ? grpc.credentials.createSsl(
            this.knobs.ca ? Buffer.concat([this.knobs.ca].flat().map((c) => Buffer.from(c))) : null,
          )
        : grpc.credentials.createInsecure();
      const Ctor = extProcPackage().envoy.service.ext_proc.v3.ExternalProcessor;
      // Envoy's async gRPC client uses the cluster name as :authority unless envoy_grpc.authority is set.
      client = new Ctor(target, creds, { 'grpc.default_authority': authority ?? clusterName });
      this.clients.set(clusterName, client);
    }
    return client.Process();
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

let statusCodes: Map<string, number> | undefined;

/** envoy.type.v3.StatusCode enum name → number (grpc-js hands enums over as names). */
export function httpStatusNumber(code: string | number | undefined): number | undefined {
  if (code === undefined) return undefined;
  if (typeof code === 'number') return code;
  if (!statusCodes) {
    const pkg = extProcPackage() as unknown as {
      envoy: { type: { v3: { StatusCode: { type: { value: { name: string; number: number }[] } } } } };
    };
    statusCodes = new Map(pkg.envoy.type.v3.StatusCode.type.value.map((v) => [v.name, v.number]));
  }
  return statusCodes.get(code);
}
