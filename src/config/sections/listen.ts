/** `listen:`: where geosync itself listens. */
import { z } from 'zod';
import { defaulted, env, integer, mapping, object } from '../keys';
import { withRules, type Parsed } from '../refine';

export type ListenAddress =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

export function parseListen(value: string): ListenAddress | undefined {
  if (value.startsWith('unix:')) {
    const path = value.slice('unix:'.length);
    return path.startsWith('/') ? { kind: 'unix', path } : undefined;
  }
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  return { kind: 'tcp', host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
}

export function formatListen(address: ListenAddress): string {
  return address.kind === 'unix' ? `unix:${address.path}` : `${address.host}:${address.port}`;
}

/** `host:port` (IPv6 in brackets) or `unix:/absolute/path`. */
const address = z
  .string()
  .refine((v) => parseListen(v), {
    error: (iss) => `must be host:port or unix:PATH, got "${String(iss.input)}"`,
  })
  .transform((v) => parseListen(v) as ListenAddress);

export const listenSection = mapping(
  withRules(
    object(
      {
        grpc: env('GEOSYNC_LISTEN_GRPC', defaulted(address, '127.0.0.1:9002')),
        admin: env('GEOSYNC_LISTEN_ADMIN', defaulted(address, '127.0.0.1:9003')),
        workers: env('GEOSYNC_WORKERS', defaulted(integer(0, 256), 0)),
      },
      {
        grpc: 'ext_proc + `grpc.health.v1` (`host:port` or `unix:/path`)',
        admin:
          'HTTP `/healthz`, `/readyz`, `/metrics`, `/staleness`, and `POST notifications.path` when enabled',
        workers:
          'processes answering ext_proc on the one `grpc` address (each with its own caches); 0 = one per core the process may use (the cgroup CPU limit when set), at most 8',
      },
    ),
    ({ grpc: a, admin: b }) =>
      a && b && same(a, b) ? [{ path: ['admin'], message: 'must differ from listen.grpc' }] : [],
  ),
);

function same(a: Parsed<ListenAddress>, b: Parsed<ListenAddress>): boolean {
  if (a.kind === 'unix' && b.kind === 'unix') return a.path === b.path;
  if (a.kind === 'tcp' && b.kind === 'tcp') return a.port !== 0 && a.host === b.host && a.port === b.port;
  return false;
}
