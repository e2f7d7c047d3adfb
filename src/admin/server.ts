/**
 * The admin HTTP port: `/healthz` (liveness: the process answers), `/readyz` (ready: configuration
 * loaded, gRPC port bound, not draining) and routes added by other modules (`/metrics`,
 * `/staleness`), all GET/HEAD; and POST routes (the registry's notifications), which guard
 * themselves (secret, body size). Nothing here reveals which region holds what.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListenAddress } from '../config/types';
import { ADMIN_PATHS } from '../config/admin-paths';
import { reply } from './reply';

/** A slow or stalled client (headers or a POST body) is cut off after this long. */
export const ADMIN_REQUEST_TIMEOUT_MS = 10_000;

/**
 * How often Node looks for requests past `headersTimeout` or `requestTimeout` (http.Server
 * `connectionsCheckingInterval`, https://nodejs.org/api/http.html#httpcreateserveroptions-requestlistener):
 * a client is cut up to this long after its deadline. Node's default of 30 s cut a client that
 * sent its headers slowly at about 32 s instead of 10 s. The check walks the admin port's few
 * connections, so once a second costs nothing.
 */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

export type AdminRoute = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

export interface AdminServer {
  readonly address: string;
  close(): Promise<void>;
}

export async function startAdminServer(
  listen: ListenAddress,
  ready: () => boolean,
  routes: ReadonlyMap<string, AdminRoute> = new Map(),
  postRoutes: ReadonlyMap<string, AdminRoute> = new Map(),
  /** A test of the cut-off sets a shorter one; geosync runs with ADMIN_REQUEST_TIMEOUT_MS. */
  requestTimeoutMs = ADMIN_REQUEST_TIMEOUT_MS,
): Promise<AdminServer> {
  const options: http.ServerOptions = {
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    headersTimeout: requestTimeoutMs,
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: 5_000,
  };
  const server = http.createServer(options, (req, res) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    const post = postRoutes.get(path);
    if (post) {
      if (req.method !== 'POST')
        return reply(res, 405, 'method not allowed\n', { headers: { allow: 'POST' } });
      return run(post, req, res);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return reply(res, 405, 'method not allowed\n', {
        headers: { allow: 'GET, HEAD', connection: 'close' },
      });
    }
    if (path === ADMIN_PATHS.healthz) return reply(res, 200, 'ok\n');
    if (path === ADMIN_PATHS.readyz)
      return ready() ? reply(res, 200, 'ready\n') : reply(res, 503, 'not ready\n');
    const route = routes.get(path);
    if (route) return run(route, req, res);
    reply(res, 404, 'not found\n');
  });
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

function run(route: AdminRoute, req: http.IncomingMessage, res: http.ServerResponse): void {
  Promise.resolve()
    .then(() => route(req, res))
    .catch(() => {
      if (!res.headersSent) reply(res, 500, 'internal error\n');
      else res.destroy();
    });
}
