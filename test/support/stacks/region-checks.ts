/**
 * What a running region says about itself: geosync's /metrics and Envoy's admin stats, requests to
 * its Envoy (any Host header too), skopeo pulls with the region's diagnostics on failure, timings.
 */
import http from 'node:http';
import type { RegionDeployment } from './deployment';
import { ENVOY_STAT, statValue } from '../envoy/envoy';
import { scrape, sum } from '../prometheus';
import { skopeoPull } from '../clients/skopeo';
import { MANIFEST_ACCEPT } from '../oci/oci-image';

/** The sum of the samples of `name` whose labels include all of `labels`, from Prometheus text. */
export const sampleSum = sum;

/** geosync's `/metrics` of a region. */
export function geosyncMetrics(region: RegionDeployment): Promise<string> {
  return scrape(region.adminUrl);
}

/** `geosync_decisions_total` for `outcome` (and `kind`), summed over the other labels. */
export async function decisions(region: RegionDeployment, outcome: string, kind?: string): Promise<number> {
  return sampleSum(await geosyncMetrics(region), 'geosync_decisions_total', {
    geosync_outcome: outcome,
    ...(kind ? { geosync_kind: kind } : {}),
  });
}

/** Snapshot of the numbers a scenario compares before and after, for one region. */
export interface Counters {
  /** Envoy: internal redirects the router followed (to a sibling). */
  readonly redirects: number;
  /** Envoy: ext_proc streams the pull cluster opened to geosync (one per 404 it asked about). */
  readonly extProcStreams: number;
  /** Envoy: requests sent to the local registry through the pull cluster. */
  readonly localPulls: number;
  readonly proxied: number;
  readonly pass: number;
  readonly notFound: number;
  readonly metrics: string;
}

export async function counters(region: RegionDeployment): Promise<Counters> {
  const metrics = await geosyncMetrics(region);
  const stats = await region.envoy.stats();
  const stat = (name: string | RegExp) => statValue(stats, name);
  return {
    redirects: stat(ENVOY_STAT.redirectsFollowed),
    extProcStreams: stat(ENVOY_STAT.extProc('streams_started')),
    localPulls: stat(ENVOY_STAT.upstreamRequests('local_registry')),
    proxied: sampleSum(metrics, 'geosync_decisions_total', { geosync_outcome: 'proxied' }),
    pass: sampleSum(metrics, 'geosync_decisions_total', { geosync_outcome: 'pass' }),
    notFound: sampleSum(metrics, 'geosync_decisions_total', { geosync_outcome: 'not_found' }),
    metrics,
  };
}

/** Count and total seconds of geosync's lookups with `outcome` (its own measure of lookup time). */
export function lookupDurations(metrics: string, outcome: string): { count: number; seconds: number } {
  return {
    count: sampleSum(metrics, 'geosync_lookup_duration_seconds_count', { geosync_outcome: outcome }),
    seconds: sampleSum(metrics, 'geosync_lookup_duration_seconds_sum', { geosync_outcome: outcome }),
  };
}

/** Rescued pulls of a region, by the source region geosync chose. */
export function rescuedFrom(metrics: string, source: string): number {
  return sampleSum(metrics, 'geosync_pulls_rescued_total', { geosync_source_region: source });
}

// ---------------------------------------------------------------------------------------------
// Timing and HTTP

export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

/** Polls `check` until it returns true; throws after `timeoutMs` with `what`. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export { MANIFEST_ACCEPT };

/** A request through a region's Envoy, as an OCI client makes it; the body is read (or dropped). */
export async function registryRequest(
  region: RegionDeployment,
  pathAndQuery: string,
  opts: { method?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ status: number; headers: Headers; body: Buffer; ms: number }> {
  const { value, ms } = await timed(async () => {
    const res = await fetch(`${region.url}${pathAndQuery}`, {
      method: opts.method ?? 'GET',
      headers: { accept: MANIFEST_ACCEPT, ...opts.headers },
      redirect: 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
    return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  });
  return { ...value, ms };
}

/**
 * `skopeoPull` from a region's Envoy; when it fails, the error also carries what that region's
 * geosync decided (its non-`pass` decision lines) and the Envoy's ext_proc and redirect counters,
 * so a failing run says whether the lookup timed out, found nothing, or was never asked.
 */
export async function pullFrom(
  region: RegionDeployment,
  src: { readonly repository: string; readonly reference: string },
  destDir: string,
  opts: Parameters<typeof skopeoPull>[2] = {},
): Promise<void> {
  try {
    await skopeoPull({ host: region.host, ...src }, destDir, opts);
  } catch (err) {
    (err as Error).message += `\n--- region ${region.name} ---\n${await diagnostics(region)}`;
    throw err;
  }
}

export async function diagnostics(region: RegionDeployment): Promise<string> {
  const decisionsLog = (region.geosync()?.output() ?? '(geosync not running)')
    .split('\n')
    .filter((l) => l.includes('"decision"') && !l.includes('"outcome":"pass"'))
    .slice(-20)
    .join('\n');
  const stats = await region.envoy.stats().catch(() => new Map<string, number>());
  const interesting = [...stats]
    .filter(([k, v]) => v > 0 && /ext_proc\.|internal_redirect|no_route/.test(k))
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
  return `geosync decisions:\n${decisionsLog}\nenvoy counters:\n${interesting}`;
}

export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** One HTTP/1.1 request with any Host header (fetch does not let a caller choose it). */
export function rawRequest(
  url: string,
  opts: { method?: string; host?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: opts.method ?? 'GET',
        headers: { ...(opts.host ? { host: opts.host } : {}), accept: MANIFEST_ACCEPT, ...opts.headers },
        timeout: opts.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`${url}: no answer within ${opts.timeoutMs ?? 10_000} ms`)),
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * A client that sends `sibling`'s host name to `via`'s Envoy (with or without the port, with or
 * without geosync's redirect marker, GET and HEAD) gets Envoy's own 404 and no byte of the
 * sibling's content; the sibling's Envoy sees none of these requests.
 */
export async function expectNoSiblingContent(
  via: RegionDeployment,
  sibling: RegionDeployment,
  pathAndQuery: string,
): Promise<void> {
  const siblingRequests = ENVOY_STAT.downstreamRequests;
  const before = await sibling.envoy.stat(siblingRequests);
  const noRouteBefore = await via.envoy.stat(ENVOY_STAT.noRoute);
  const host = new URL(sibling.crossRegion.url).host;
  const attempts = [
    { host },
    { host: host.split(':')[0] as string },
    { host, headers: { 'x-geosync-redirect': '1' } },
    { host, headers: { 'x-geosync-redirect': '1' }, method: 'HEAD' },
  ];
  for (const attempt of attempts) {
    const res = await rawRequest(`${via.url}${pathAndQuery}`, attempt);
    expect({ attempt, status: res.status }).toEqual({ attempt, status: 404 });
    expect(res.headers['docker-content-digest']).toBeUndefined();
  }
  expect(await via.envoy.stat(ENVOY_STAT.noRoute)).toBe(noRouteBefore + attempts.length);
  expect(await sibling.envoy.stat(siblingRequests)).toBe(before);
}
