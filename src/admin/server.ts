/**
 * The admin HTTP port: `/healthz` (liveness: the process answers), `/readyz` (ready: configuration
 * loaded, gRPC port bound, not draining) and routes added by other modules (`/metrics`).
 * Nothing here reveals which region holds what.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListenAddress } from '../config/schema';

export type AdminRoute = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

export interface AdminServer {
  readonly address: string;
  close(): Promise<void>;
}

export async function startAdminServer(
  listen: ListenAddress,
  ready: () => boolean,
  routes: ReadonlyMap<string, AdminRoute> = new Map(),
): Promise<AdminServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'method not allowed\n');
    if (path === '/healthz') return text(res, 200, 'ok\n');
    if (path === '/readyz') return ready() ? text(res, 200, 'ready\n') : text(res, 503, 'not ready\n');
    const route = routes.get(path);
    if (route) {
      Promise.resolve(route(req, res)).catch(() => {
        if (!res.headersSent) text(res, 500, 'internal error\n');
        else res.destroy();
      });
      return;
    }
    text(res, 404, 'not found\n');
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (listen.kind === 'unix') server.listen(listen.path, resolve);
    else server.listen(listen.port, listen.host, resolve);
  });
  const addr = server.address();
  const address =
    typeof addr === 'string'
      ? `unix:${addr}`
      : `${(addr as AddressInfo).address}:${(addr as AddressInfo).port}`;
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function text(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(body);
}
