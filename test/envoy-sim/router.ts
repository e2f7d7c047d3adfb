/**
 * One upstream attempt of the router (router.cc + upstream_request.cc): the cluster-level upstream
 * filter chain (ext_proc, then the codec), then HTTP/1.1 to an endpoint. The ext_proc filter
 * instance lives exactly as long as the attempt (§1.1): `finish()`/`abort()` destroy it, which
 * half-closes and cancels its stream (§1.8).
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { ClusterConfig } from './bootstrap';
import type { ExtProcClients } from './ext-proc-client';
import { type FilterOutcome, UpstreamExtProcFilter } from './ext-proc-filter';
import { HeaderMap } from './header-map';
import type { Knobs } from './knobs';
import type { Stats } from './stats';
import { HOP_BY_HOP, type UpstreamPool } from './upstream';

export interface DownstreamBody {
  req: IncomingMessage;
  /** The body was already forwarded once (it is never replayed). */
  consumed: boolean;
  bytes: number;
  /** Headers say there is no body: the headers end the stream. */
  headersEndStream: boolean;
}

export interface AttemptDeps {
  knobs: Knobs;
  stats: Stats;
  pool: UpstreamPool;
  extProc: ExtProcClients;
  maxHeadersCount: number;
  maxHeadersKb: number;
}

export type AttemptResult =
  | { kind: 'response'; headers: HeaderMap; body: Readable | Buffer; upstreamMs: number }
  | { kind: 'local_reply'; status: number; body: string; details: string; filterOutcome?: FilterOutcome }
  | { kind: 'hang'; details: string };

export class UpstreamAttempt {
  private filter?: UpstreamExtProcFilter;
  private upstreamRes?: IncomingMessage;
  private upstreamReq?: ReturnType<UpstreamPool['start']>['req'];
  private done = false;

  constructor(
    private readonly deps: AttemptDeps,
    private readonly cluster: ClusterConfig,
    private readonly endpoint: ClusterConfig['endpoints'][number],
    private readonly routeName: string,
  ) {
    const ep = cluster.extProc;
    if (ep) {
      this.filter = new UpstreamExtProcFilter({
        config: ep,
        knobs: deps.knobs,
        stats: deps.stats,
        statScope: `cluster.${cluster.name}.ext_proc.${ep.statPrefix}`,
        openStream: () => deps.extProc.open(ep.grpcCluster, ep.grpcAuthority),
        maxHeadersCount: deps.maxHeadersCount,
        maxHeadersKb: deps.maxHeadersKb,
        routeName,
        clusterName: cluster.name,
      });
    }
  }

  /** Runs the attempt up to the (filtered) response headers. `headers` are the router's request headers. */
  async run(headers: HeaderMap, body: DownstreamBody): Promise<AttemptResult> {
    const stats = this.deps.stats;
    const c = `cluster.${this.cluster.name}.`;
    const endStream = body.headersEndStream || body.consumed;
    const started = Date.now();

    const decoded = this.filter
      ? await this.filter.decodeHeaders(headers, endStream)
      : { action: 'continue' as const };
    if (decoded.action !== 'continue') return this.fromFilter(decoded);
    if (this.done) return { kind: 'hang', details: 'aborted' };

    const delay = this.deps.knobs.upstreamDelayMs[this.cluster.name] ?? 0;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (this.done) return { kind: 'hang', details: 'aborted' };

    stats.inc(`${c}upstream_rq_total`);
    const call = this.deps.pool.start(this.cluster, this.endpoint, headers);
    this.upstreamReq = call.req;
    this.sendBody(call.req, body, decoded.replaceBody);

    const up = await call.response;
    if (!up.ok) {
      if (up.reason !== 'reset') stats.inc(`${c}upstream_cx_connect_fail`);
      else stats.inc(`${c}upstream_rq_rx_reset`);
      const reason = up.reason === 'reset' ? 'connection termination' : up.reason.replace('_', ' ');
      return {
        kind: 'local_reply',
        status: 503,
        body: `upstream connect error or disconnect/reset before headers. reset reason: ${reason}`,
        details: `upstream_reset_before_response_started{${up.reason}}`,
      };
    }
    const res = up.res;
    this.upstreamRes = res;
    const status = res.statusCode ?? 502;
    stats.inc(`${c}upstream_rq_${status}`);
    stats.inc(`${c}upstream_rq_${Math.floor(status / 100)}xx`);

    const responseHeaders = new HeaderMap([[':status', String(status)]]);
    for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
      const k = (res.rawHeaders[i] ?? '').toLowerCase();
      if (!HOP_BY_HOP.has(k)) responseHeaders.add(k, res.rawHeaders[i + 1] ?? '');
    }
    const method = headers.get(':method');
    const noBody =
      method === 'HEAD' || status === 204 || status === 304 || responseHeaders.get('content-length') === '0';
    const encoded = this.filter
      ? await this.filter.encodeHeaders(responseHeaders, noBody)
      : { action: 'continue' as const };
    if (encoded.action !== 'continue') return this.fromFilter(encoded);
    if (encoded.replaceBody) {
      responseHeaders.remove('content-length');
      res.resume();
      return {
        kind: 'response',
        headers: responseHeaders,
        body: encoded.replaceBody,
        upstreamMs: Date.now() - started,
      };
    }
    return { kind: 'response', headers: responseHeaders, body: res, upstreamMs: Date.now() - started };
  }

  private sendBody(
    req: NonNullable<UpstreamAttempt['upstreamReq']>,
    body: DownstreamBody,
    replace?: Buffer,
  ): void {
    req.on('error', () => undefined); // reported through the response promise
    if (replace) {
      body.req.resume();
      req.end(replace);
      return;
    }
    if (body.headersEndStream || body.consumed) {
      req.end();
      return;
    }
    body.consumed = true;
    body.req.on('data', (chunk: Buffer) => {
      body.bytes += chunk.length;
    });
    body.req.pipe(req);
  }

  private fromFilter(o: Exclude<FilterOutcome, { action: 'continue' }>): AttemptResult {
    if (o.action === 'hang') return { kind: 'hang', details: o.details };
    return { kind: 'local_reply', status: o.status, body: o.body, details: o.details, filterOutcome: o };
  }

  /** The attempt ended normally (response fully proxied). */
  finish(): void {
    if (this.done) return;
    this.done = true;
    this.filter?.onDestroy();
  }

  /** The attempt is torn down (redirect, timeout, client gone): reset the upstream request too. */
  abort(): void {
    const wasDone = this.done;
    this.done = true;
    if (!wasDone) this.filter?.onDestroy();
    this.upstreamRes?.destroy();
    this.upstreamReq?.destroy();
  }
}
