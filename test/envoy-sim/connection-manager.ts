/**
 * The HTTP connection manager + router for one downstream request (conn_manager_impl.cc,
 * router.cc): HCM header handling, route selection, one upstream attempt, the internal redirect
 * loop (recreateStream re-runs route selection with the rewritten headers, §5.3), route and idle
 * timeouts, and streaming the chosen response to the client.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, pipeline } from 'node:stream';
import type { ClusterConfig, ListenerConfig } from './bootstrap';
import { HeaderMap } from './header-map';
import { newRedirectFilterState, tryInternalRedirect } from './internal-redirect';
import { sendLocalReply } from './local-reply';
import { finalizeRequestHeaders } from './request-headers';
import { type AttemptDeps, type AttemptResult, type DownstreamBody, UpstreamAttempt } from './router';
import { RouterTimers, isComplete } from './router-timers';
import { normalizeRequestHost, selectRoute } from './routing';

export interface ManagerDeps extends AttemptDeps {
  clusters: Map<string, ClusterConfig>;
  /** Streams in flight, so close() can end them. */
  live: Set<{ abort(): void }>;
}

/** Builds Envoy's request header map from an HTTP/1.1 request (the codec turns Host into :authority). */
export function downstreamHeaders(req: IncomingMessage): HeaderMap {
  const h = new HeaderMap([
    [':method', req.method ?? 'GET'],
    [':scheme', 'http'],
    [':authority', req.headers.host ?? ''],
    [':path', req.url ?? '/'],
  ]);
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const k = (req.rawHeaders[i] ?? '').toLowerCase();
    if (k !== 'host' && k !== 'connection' && k !== 'keep-alive' && k !== 'transfer-encoding')
      h.add(k, req.rawHeaders[i + 1] ?? '');
  }
  return h;
}

export async function handleRequest(
  deps: ManagerDeps,
  listener: ListenerConfig,
  listenerPort: number,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const hcm = listener.hcm;
  const http = `http.${hcm.statPrefix}.`;
  const stats = deps.stats;
  stats.inc(`${http}downstream_rq_total`);
  res.on('finish', () => stats.inc(`${http}downstream_rq_${Math.floor(res.statusCode / 100)}xx`));

  const headers = downstreamHeaders(req);
  // HCM: x-request-id generated when absent; x-forwarded-proto from the connection.
  if (!headers.has('x-request-id')) headers.set('x-request-id', randomUUID());
  if (!headers.has('x-forwarded-proto')) headers.set('x-forwarded-proto', 'http');
  const hasBody =
    (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') ||
    req.headers['transfer-encoding'] !== undefined;
  const body: DownstreamBody = { req, consumed: false, bytes: 0, headersEndStream: !hasBody };
  const state = newRedirectFilterState();

  let current: UpstreamAttempt | undefined;
  const stream = { abort: () => current?.abort() };
  deps.live.add(stream);
  let clientGone = false;
  res.on('close', () => {
    if (!res.writableFinished) {
      clientGone = true;
      current?.abort();
    }
    deps.live.delete(stream);
  });

  for (;;) {
    if (clientGone) return;
    // Every (re)created stream is decoded again, host normalisation included.
    normalizeRequestHost(hcm, headers, listenerPort);
    const match = selectRoute(hcm, headers, listenerPort);
    if (!match) {
      stats.inc(`${http}no_route`); // response flag NR
      drain(req);
      return sendLocalReply(res, 404, '');
    }
    const { route, virtualHost } = match;
    if (route.action.kind === 'direct_response') {
      stats.inc(`${http}rq_direct_response`);
      drain(req);
      return sendLocalReply(res, route.action.status, route.action.body);
    }
    const action = route.action;
    const cluster = deps.clusters.get(action.cluster);
    if (!cluster) {
      stats.inc(`${http}no_cluster`);
      drain(req);
      return sendLocalReply(res, 503, '');
    }
    const endpoint = deps.pool.pickEndpoint(cluster);
    if (!endpoint) {
      drain(req);
      return sendLocalReply(res, 503, 'no healthy upstream');
    }
    finalizeRequestHeaders(headers, route, virtualHost, action, cluster, endpoint);

    const attempt = new UpstreamAttempt(deps, cluster, endpoint, route.name);
    current = attempt;
    const timers = new RouterTimers(hcm.streamIdleTimeoutMs, action, body);
    const result = await Promise.race([attempt.run(headers, body), timers.expired]);
    if (clientGone) {
      timers.clear();
      attempt.abort();
      return;
    }
    if ('timeout' in result) {
      attempt.abort();
      timers.clear();
      if (result.timeout === 'route') stats.inc(`cluster.${cluster.name}.upstream_rq_timeout`);
      else stats.inc(`${http}downstream_rq_idle_timeout`);
      // Route timeout → 504 "upstream request timeout"; stream idle → 408, or 504 once the request
      // is complete (Utility::maybeRequestTimeoutCode).
      const status = result.timeout === 'route' || isComplete(body) ? 504 : 408;
      return sendLocalReply(
        res,
        status,
        result.timeout === 'route' ? 'upstream request timeout' : 'stream timeout',
      );
    }
    if (result.kind === 'hang') {
      // The ignored upstream local reply leaves the attempt paused until a timer fires (§3).
      const t = await timers.expired;
      timers.clear();
      return finishWithTimeout(t.timeout);
    }
    if (result.kind === 'local_reply') {
      timers.clear();
      attempt.abort();
      drain(req);
      const mutation =
        result.filterOutcome?.action === 'local_reply' ? result.filterOutcome.headers : undefined;
      return sendLocalReply(res, result.status, result.body, {}, mutation, deps.knobs.sendRawValue);
    }

    // onUpstreamHeaders: try an internal redirect when the (mutated) code is in the route's list (§5.1).
    const status = Number(result.headers.get(':status'));
    const policy = action.internalRedirectPolicy;
    if (policy && policy.redirectResponseCodes.has(status)) {
      const outcome = tryInternalRedirect({
        route,
        policy,
        status,
        requestHeaders: headers,
        responseHeaders: result.headers,
        downstreamComplete: isComplete(body),
        requestBodyBytes: body.bytes,
        downstreamTls: false,
        state,
        lookupRouteName: (h) => selectRoute(hcm, h, listenerPort)?.route.name,
      });
      if (outcome.ok) {
        stats.inc(`cluster.${cluster.name}.upstream_internal_redirect_succeeded_total`);
        timers.clear();
        attempt.abort(); // the local attempt is reset; its ext_proc stream closed (§5.3)
        continue; // recreateStream: a new stream over the same response encoder
      }
      if (outcome.stat) stats.inc(`${http}${outcome.stat}`);
      stats.inc(`cluster.${cluster.name}.upstream_internal_redirect_failed_total`);
    }
    return streamResponse(res, result, attempt, timers);
  }

  function finishWithTimeout(kind: 'route' | 'idle'): void {
    current?.abort();
    const status = kind === 'route' || isComplete(body) ? 504 : 408;
    sendLocalReply(res, status, kind === 'route' ? 'upstream request timeout' : 'stream timeout');
  }
}

function drain(req: IncomingMessage): void {
  if (!req.readableEnded) req.resume();
}

/** Streams the upstream response to the client without buffering; HEAD gets no body. */
function streamResponse(
  res: ServerResponse,
  result: Extract<AttemptResult, { kind: 'response' }>,
  attempt: UpstreamAttempt,
  timers: RouterTimers,
): void {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of result.headers.regular()) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  out.server = 'envoy';
  out['x-envoy-upstream-service-time'] = String(result.upstreamMs);
  const status = Number(result.headers.get(':status'));
  try {
    res.writeHead(status, out);
  } catch {
    attempt.abort();
    timers.clear();
    res.destroy();
    return;
  }
  const source = Buffer.isBuffer(result.body) ? Readable.from([result.body]) : result.body;
  source.on('data', () => timers.touch());
  void timers.expired.then(() => {
    // A timer firing mid-body resets the stream (the response already started).
    attempt.abort();
    res.destroy();
  });
  pipeline(source, res, (err) => {
    timers.clear();
    if (err) {
      attempt.abort();
      res.destroy();
    } else attempt.finish();
  });
}
