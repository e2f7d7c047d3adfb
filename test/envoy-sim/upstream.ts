/**
 * HTTP/1.1 to a cluster's endpoints (the upstream codec). One keep-alive agent per cluster;
 * TLS clusters use node https with the configured SNI; `pipe` endpoints use a unix socket.
 * Connection failures surface as values (the router turns them into 503, §router.cc
 * onUpstreamReset "upstream connect error or disconnect/reset before headers").
 */
import http from 'node:http';
import https from 'node:https';
import type { ClusterConfig } from './bootstrap';
import type { HeaderMap } from './header-map';
import type { Knobs } from './knobs';

/** Hop-by-hop headers the HTTP/1 codec never forwards (RFC 7230 §6.1; Envoy strips them too). */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-authenticate',
]);

export type UpstreamResponse =
  | { ok: true; res: http.IncomingMessage }
  | { ok: false; reason: 'connection_failure' | 'connection_timeout' | 'reset'; message: string };

export interface UpstreamCall {
  /** The request stream: write the body into it and end it. */
  req: http.ClientRequest;
  response: Promise<UpstreamResponse>;
}

export class UpstreamPool {
  private readonly agents = new Map<string, http.Agent>();
  private readonly rr = new Map<string, number>();

  constructor(private readonly knobs: Knobs) {}

  private agent(cluster: ClusterConfig): http.Agent {
    let a = this.agents.get(cluster.name);
    if (!a) {
      a = cluster.tls ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
      this.agents.set(cluster.name, a);
    }
    return a;
  }

  /** The endpoint's configured hostname (auto_host_rewrite uses it) for the next attempt. */
  pickEndpoint(cluster: ClusterConfig): ClusterConfig['endpoints'][number] | undefined {
    const n = this.rr.get(cluster.name) ?? 0;
    this.rr.set(cluster.name, n + 1);
    return cluster.endpoints[n % Math.max(1, cluster.endpoints.length)];
  }

  start(
    cluster: ClusterConfig,
    endpoint: ClusterConfig['endpoints'][number],
    headers: HeaderMap,
  ): UpstreamCall {
    const flat: string[] = [];
    const authority = headers.get(':authority');
    if (authority) flat.push('host', authority);
    for (const [k, v] of headers.regular()) if (!HOP_BY_HOP.has(k) && k !== 'host') flat.push(k, v);
    const options: https.RequestOptions = {
      method: headers.get(':method') ?? 'GET',
      path: headers.get(':path') ?? '/',
      headers: flat as unknown as http.OutgoingHttpHeaders,
      agent: this.agent(cluster),
      setHost: false,
    };
    if (endpoint.kind === 'pipe') options.socketPath = endpoint.path;
    else {
      options.host = this.knobs.hosts[endpoint.host] ?? endpoint.host;
      options.port = endpoint.port;
    }
    if (cluster.tls) {
      const hostOnly = (authority ?? '').replace(/:\d+$/, '');
      // No SNI unless configured (`sni`, or auto_sni from the Host header).
      options.servername = cluster.tls.sni ?? (cluster.tls.autoSni ? hostOnly : '');
      options.rejectUnauthorized = this.knobs.rejectUnauthorized ?? cluster.tls.verify;
      // Envoy checks names only with match_typed_subject_alt_names, which is not modelled.
      options.checkServerIdentity = () => undefined;
      if (this.knobs.ca) options.ca = this.knobs.ca;
    }
    const req = (cluster.tls ? https : http).request(options);
    const response = new Promise<UpstreamResponse>((resolve) => {
      let connectTimer: NodeJS.Timeout | undefined;
      req.on('socket', (socket) => {
        if (!socket.connecting) return;
        connectTimer = setTimeout(() => {
          resolve({ ok: false, reason: 'connection_timeout', message: 'connection timeout' });
          req.destroy(new Error('connect timeout'));
        }, cluster.connectTimeoutMs);
        socket.once(cluster.tls ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
      });
      req.on('response', (res) => {
        clearTimeout(connectTimer);
        resolve({ ok: true, res });
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(connectTimer);
        const refused = ['ECONNREFUSED', 'ENOENT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(
          err.code ?? '',
        );
        resolve({
          ok: false,
          reason: refused || !req.reusedSocket ? 'connection_failure' : 'reset',
          message: err.message,
        });
      });
    });
    return { req, response };
  }

  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }
}
