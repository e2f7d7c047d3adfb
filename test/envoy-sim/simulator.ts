/**
 * startEnvoySim: the simulator's entry point. Reads the bootstrap, binds one node:http server per
 * listener (on loopback), and an admin server when the bootstrap has an admin section.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { startAdmin } from './admin';
import { type Bootstrap, readBootstrap } from './bootstrap';
import { handleRequest, type ManagerDeps } from './connection-manager';
import { ExtProcClients } from './ext-proc-client';
import { type EnvoyHandle, type ListenerInfo } from './handle';
import { type Knobs, resolveKnobs } from './knobs';
import type { Obj } from './proto-values';
import { Stats } from './stats';
import { UpstreamPool } from './upstream';

export interface EnvoySim extends EnvoyHandle {
  readonly kind: 'simulator';
  /** Live counters (synchronous access for tests). */
  readonly stats: Stats;
  readonly knobs: Knobs;
  readonly bootstrap: Bootstrap;
}

const WILDCARD = new Set(['0.0.0.0', '::', '']);

export async function startEnvoySim(bootstrap: string | Obj, knobs: Partial<Knobs> = {}): Promise<EnvoySim> {
  const config = readBootstrap(bootstrap);
  const k = resolveKnobs(knobs);
  const stats = new Stats();
  const pool = new UpstreamPool(k);
  const extProc = new ExtProcClients(config.clusters, k);
  const servers: http.Server[] = [];
  const sockets = new Set<Socket>();
  const listeners: ListenerInfo[] = [];
  const live = new Set<{ abort(): void }>();

  const closeAll = async () => {
    for (const s of live) s.abort();
    for (const s of servers) s.close();
    for (const s of sockets) s.destroy();
    extProc.close();
    pool.close();
    await Promise.all(
      servers.map((s) => new Promise((r) => (s.listening ? s.once('close', r) : r(undefined)))),
    );
  };

  try {
    for (const l of config.listeners) {
      const maxHeadersCount = l.hcm.maxHeadersCount;
      const deps: ManagerDeps = {
        knobs: k,
        stats,
        pool,
        extProc,
        clusters: config.clusters,
        live,
        maxHeadersCount,
        maxHeadersKb: l.hcm.maxRequestHeadersKb,
      };
      let port = 0;
      const server = http.createServer((req, res) => {
        handleRequest(deps, l, port, req, res).catch((err: Error) => {
          if (!res.headersSent) {
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end(`envoy-sim internal error: ${err.message}`);
          } else res.destroy();
        });
      });
      server.on('connection', (s: Socket) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
      });
      servers.push(server);
      if (l.address.kind === 'pipe') {
        await listen(server, { path: l.address.path });
        listeners.push({ name: l.name, url: `unix:${l.address.path}` });
        continue;
      }
      const host = WILDCARD.has(l.address.host) ? k.listenHost : l.address.host;
      await listen(server, { host, port: k.ephemeralPorts ? 0 : l.address.port });
      port = (server.address() as AddressInfo).port;
      listeners.push({ name: l.name, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}` });
    }
    let adminUrl: string | undefined;
    if (config.admin && config.admin.address.kind === 'socket') {
      const a = config.admin.address;
      const admin = await startAdmin(
        WILDCARD.has(a.host) ? k.listenHost : a.host,
        k.ephemeralPorts ? 0 : a.port,
        {
          stats,
          clusters: config.clusters,
          listeners: () => listeners,
          version: k.envoyVersion,
        },
      );
      servers.push(admin);
      admin.on('connection', (s: Socket) => sockets.add(s));
      adminUrl = admin.url;
    }
    return {
      kind: 'simulator',
      listeners,
      adminUrl,
      stats,
      knobs: k,
      bootstrap: config,
      readStats: async () => stats.snapshot(),
      counter: async (name: string) => stats.sum(name),
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

function listen(server: http.Server, opts: { host?: string; port?: number; path?: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
