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
  /** Streams opened on the current connection of each cluster. */
  private readonly streamsOnClient = new Map<string, number>();
  /** Clients retired by max_requests_per_connection, closed when the simulator stops. */
  private readonly retired: ExternalProcessorClient[] = [];

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
    // max_requests_per_connection: after that many streams Envoy drains the connection and opens a
    // new one for the next stream. grpc-js keeps one HTTP/2 connection per client, so a new client
    // is a new connection; the old one finishes its open streams.
    const limit = cluster.maxRequestsPerConnection;
    if (client && limit && (this.streamsOnClient.get(clusterName) ?? 0) >= limit) {
      this.retired.push(client);
      this.clients.delete(clusterName);
      client = undefined;
    }
    // Envoy's connection pool tries a new connection for a new stream when none is up; grpc-js
    // would instead fail every call fast until its reconnect backoff (up to minutes) expires. A
    // channel in TRANSIENT_FAILURE is therefore replaced, so a processor that comes back (geosync
    // restarted) is reached by the next request, as with Envoy.
    if (
      client &&
      client.getChannel().getConnectivityState(false) === grpc.connectivityState.TRANSIENT_FAILURE
    ) {
      client.close();
      this.clients.delete(clusterName);
      client = undefined;
    }
    if (!client) {
      this.streamsOnClient.set(clusterName, 0);
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
      // A local subchannel pool: grpc-js would otherwise share one connection between clients of
      // the same target, and a new client must be a new connection (max_requests_per_connection).
      client = new Ctor(target, creds, {
        'grpc.default_authority': authority ?? clusterName,
        'grpc.use_local_subchannel_pool': 1,
      });
      this.clients.set(clusterName, client);
    }
    this.streamsOnClient.set(clusterName, (this.streamsOnClient.get(clusterName) ?? 0) + 1);
    return client.Process();
  }

  close(): void {
    for (const c of [...this.clients.values(), ...this.retired]) c.close();
    this.clients.clear();
    this.retired.length = 0;
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
