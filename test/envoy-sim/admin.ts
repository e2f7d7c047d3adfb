/**
 * A small Envoy admin endpoint, so tests written against admin URLs also run on a real Envoy:
 * `/ready` (LIVE), `/stats` (text `name: value`, `?filter=` regex, `?format=json`),
 * `/clusters` (text, one `cluster::host::key::value` line per fact), `/listeners?format=json`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClusterConfig } from './bootstrap';
import type { ListenerInfo } from './handle';
import type { Stats } from './stats';

export interface AdminState {
  stats: Stats;
  clusters: Map<string, ClusterConfig>;
  listeners: () => ListenerInfo[];
  version: string;
}

export async function startAdmin(
  host: string,
  port: number,
  state: AdminState,
): Promise<http.Server & { url: string }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    const text = (status: number, body: string, type = 'text/plain') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    switch (url.pathname) {
      case '/ready':
        return text(200, 'LIVE\n');
      case '/server_info':
        return text(
          200,
          JSON.stringify({ state: 'LIVE', version: `envoy-sim/${state.version}` }),
          'application/json',
        );
      case '/stats': {
        const f = url.searchParams.get('filter');
        const filter = f ? new RegExp(f) : undefined;
        if (url.searchParams.get('format') === 'json') {
          const stats = Object.entries(state.stats.snapshot())
            .filter(([k]) => !filter || filter.test(k))
            .map(([name, value]) => ({ name, value }));
          return text(200, JSON.stringify({ stats }), 'application/json');
        }
        return text(200, state.stats.toText(filter));
      }
      case '/clusters':
        return text(200, clustersText(state));
      case '/listeners':
        return text(
          200,
          JSON.stringify({
            listener_statuses: state.listeners().map((l) => {
              const u = new URL(l.url);
              return {
                name: l.name,
                local_address: { socket_address: { address: u.hostname, port_value: Number(u.port) } },
              };
            }),
          }),
          'application/json',
        );
      default:
        return text(404, 'invalid path\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return Object.assign(server, { url: `http://${host}:${addr.port}` });
}

function clustersText(state: AdminState): string {
  const lines: string[] = [];
  for (const c of state.clusters.values()) {
    lines.push(`${c.name}::observability_name::${c.name}`);
    for (const ep of c.endpoints) {
      const host = ep.kind === 'pipe' ? ep.path : `${ep.host}:${ep.port}`;
      const p = `${c.name}::${host}`;
      lines.push(
        `${p}::health_flags::healthy`,
        `${p}::weight::1`,
        `${p}::hostname::${ep.kind === 'socket' ? ep.host : ''}`,
      );
      lines.push(`${p}::rq_total::${state.stats.get(`cluster.${c.name}.upstream_rq_total`)}`);
    }
  }
  return lines.join('\n') + '\n';
}
