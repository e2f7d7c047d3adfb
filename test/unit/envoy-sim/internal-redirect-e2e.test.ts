/**
 * The router's internal redirect through the whole simulator (§5): real registries/siblings on
 * port 0, a real grpc-js processor, the simulator in between.
 */
import { startEnvoySim, type EnvoySim } from '../../envoy-sim';
import {
  type BootstrapOptions,
  type FakeProcessor,
  type FakeServer,
  type Handler,
  SIBLING_HOST,
  bootstrap,
  notFound,
  okBody,
  redirectingScript,
  request,
  startProcessor,
  startServer,
} from './fixtures';

const BLOB = '/v2/team/app/blobs/sha256:' + 'a'.repeat(64);

describe('internal redirect (§5)', () => {
  let registry: FakeServer;
  let sibling: FakeServer;
  let processor: FakeProcessor;
  let sim: EnvoySim;
  let location: (path: string) => string;
  let siblingHandler: Handler;

  beforeEach(async () => {
    siblingHandler = okBody('blob-bytes');
    registry = await startServer(notFound);
    sibling = await startServer((req, res) => siblingHandler(req, res));
    location = (p) => `http://${SIBLING_HOST}:${sibling.port}${p}`;
    processor = await startProcessor(redirectingScript((p) => location(p)));
  });

  afterEach(async () => {
    await sim?.close();
    await Promise.all([registry.close(), sibling.close(), processor.close()]);
  });

  const start = async (o: Partial<BootstrapOptions> = {}, knobs = {}) => {
    sim = await startEnvoySim(
      bootstrap({
        registryPort: registry.port,
        siblingPort: sibling.port,
        processorPort: processor.port,
        ...o,
      }),
      knobs,
    );
    return sim.listeners[0]?.url ?? '';
  };

  it('follows the 307 server-side: the client gets 200, headers kept, x-envoy-original-url added', async () => {
    const url = await start();
    const r = await request(url, BLOB, { headers: { authorization: 'Bearer t0k', 'x-custom': 'kept' } });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('blob-bytes');
    expect(sibling.requests).toHaveLength(1);
    const seen = sibling.requests[0]?.headers ?? {};
    expect(seen.authorization).toBe('Bearer t0k');
    expect(seen['x-custom']).toBe('kept');
    // The recreated stream is decoded again, and strip_any_host_port drops the port [I: that
    // maybeNormalizeHost runs for internally created streams too].
    expect(seen.host).toBe(SIBLING_HOST);
    expect(seen['x-envoy-original-url']).toBe(`http://registry.local${BLOB}`);
    expect(seen['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(sim.stats.get('cluster.local_registry.upstream_internal_redirect_succeeded_total')).toBe(1);
    expect(sim.stats.sum('upstream_internal_redirect_failed_total')).toBe(0);
    expect(sim.stats.sum('streams_started')).toBe(1); // the sibling cluster has no ext_proc
  });

  it('HEAD is redirected too and keeps content-length without a body', async () => {
    const url = await start();
    const r = await request(url, BLOB, { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe('10');
    expect(r.body.length).toBe(0);
    expect(sibling.requests[0]?.method).toBe('HEAD');
  });

  it('passes Range through to the sibling and returns its 206', async () => {
    siblingHandler = (req, res) => {
      res.writeHead(206, { 'content-range': 'bytes 2-4/10', 'content-length': '3' });
      res.end(req.headers.range === 'bytes=2-4' ? 'ob-' : 'bad');
    };
    const url = await start();
    const r = await request(url, BLOB, { headers: { range: 'bytes=2-4' } });
    expect(r.status).toBe(206);
    expect(r.body.toString()).toBe('ob-');
  });

  it('a relative location fails: the 307 reaches the client (bad_location)', async () => {
    location = (p) => p;
    const url = await start();
    const r = await request(url, BLOB);
    expect(r.status).toBe(307);
    expect(r.headers.location).toBe(BLOB);
    expect(sim.stats.get('http.ingress.passthrough_internal_redirect_bad_location')).toBe(1);
    expect(sim.stats.get('cluster.local_registry.upstream_internal_redirect_failed_total')).toBe(1);
    expect(sibling.requests).toHaveLength(0);
  });

  it('http → https without allow_cross_scheme_redirect fails the scheme check', async () => {
    location = (p) => `https://${SIBLING_HOST}:${sibling.port}${p}`;
    const url = await start();
    const r = await request(url, BLOB);
    expect(r.status).toBe(307);
    expect(sim.stats.get('http.ingress.passthrough_internal_redirect_unsafe_scheme')).toBe(1);
  });

  it('no route for the new authority: the 307 reaches the client (no_route)', async () => {
    location = (p) => `http://nowhere.test${p}`;
    const url = await start();
    const r = await request(url, BLOB);
    expect(r.status).toBe(307);
    expect(r.headers.location).toBe(`http://nowhere.test${BLOB}`);
    expect(sim.stats.get('http.ingress.passthrough_internal_redirect_no_route')).toBe(1);
  });

  it('allow_listed_routes rejects a target route not in the list (predicate)', async () => {
    location = (p) => `http://registry.local${p}`; // back to local_pull: not allow-listed
    const url = await start();
    const r = await request(url, BLOB);
    expect(r.status).toBe(307);
    expect(sim.stats.get('http.ingress.passthrough_internal_redirect_predicate')).toBe(1);
    expect(registry.requests).toHaveLength(1);
  });

  it('a sibling 307 (to object storage) passes to the client when the sibling route has no policy (§5.4)', async () => {
    siblingHandler = (_req, res) => {
      res.writeHead(307, { location: 'http://s3.example/bucket/blob?sig=1' });
      res.end();
    };
    const url = await start();
    const r = await request(url, BLOB);
    expect(r.status).toBe(307);
    expect(r.headers.location).toBe('http://s3.example/bucket/blob?sig=1');
    expect(sim.stats.get('cluster.local_registry.upstream_internal_redirect_succeeded_total')).toBe(1);
    expect(sim.stats.sum('upstream_internal_redirect_failed_total')).toBe(0);
  });

  it('max_internal_redirects is counted per downstream request across routes', async () => {
    // The sibling answers 307 to itself; its route follows 307 with the same max of 1.
    siblingHandler = (req, res) => {
      res.writeHead(307, { location: `http://${SIBLING_HOST}:${sibling.port}${req.url}` });
      res.end();
    };
    const url = await start({
      siblingRoute: { internal_redirect_policy: { redirect_response_codes: [307] } },
    });
    const r = await request(url, BLOB);
    expect(r.status).toBe(307);
    expect(sibling.requests).toHaveLength(1);
    expect(sim.stats.get('http.ingress.passthrough_internal_redirect_too_many_redirects')).toBe(1);
    expect(sim.stats.get('cluster.sibling.upstream_internal_redirect_failed_total')).toBe(1);
  });

  it('previous_routes rejects a route already reached from the same route', async () => {
    siblingHandler = (req, res) => {
      res.writeHead(307, { location: `http://${SIBLING_HOST}:${sibling.port}${req.url}` });
      res.end();
    };
    const previous = {
      name: 'envoy.internal_redirect_predicates.previous_routes',
      typed_config: {
        '@type':
          'type.googleapis.com/envoy.extensions.internal_redirect.previous_routes.v3.PreviousRoutesConfig',
      },
    };
    const url = await start({
      siblingRoute: {
        internal_redirect_policy: {
          redirect_response_codes: [307],
          max_internal_redirects: 5,
          predicates: [previous],
        },
      },
    });
    const r = await request(url, BLOB);
    // local_pull → sibling_pull (1), sibling_pull → sibling_pull (2), then rejected: already reached from sibling_pull.
    expect(r.status).toBe(307);
    expect(sibling.requests).toHaveLength(2);
    expect(sim.stats.get('http.ingress.passthrough_internal_redirect_predicate')).toBe(1);
  });

  it('only listed redirect_response_codes are followed (default {302})', async () => {
    const url = await start({ policy: {} });
    const r = await request(url, BLOB);
    expect(r.status).toBe(307);
    expect(sim.stats.sum('upstream_internal_redirect_failed_total')).toBe(0); // not even tried
    expect(sibling.requests).toHaveLength(0);
  });

  it('a request body is never redirected', async () => {
    const url = await start({ methods: 'GET|HEAD|PUT' });
    const r = await request(url, BLOB, {
      method: 'PUT',
      body: 'payload',
      headers: { 'content-type': 'text/plain' },
    });
    expect(r.status).toBe(307);
    expect(registry.requests[0]?.body.toString()).toBe('payload');
    expect(sibling.requests).toHaveLength(0);
    expect(sim.stats.get('cluster.local_registry.upstream_internal_redirect_failed_total')).toBe(1);
  });

  it('response_headers_to_copy copies a header of the 3xx into the redirected request', async () => {
    const url = await start();
    processor.streams.length = 0;
    const r = await request(url, BLOB, { headers: { 'x-regional-fallback': 'client-value' } });
    expect(r.status).toBe(200);
    // Absent in the 3xx → removed from the request.
    expect(sibling.requests[0]?.headers['x-regional-fallback']).toBeUndefined();
  });
});

describe('routing and proxying', () => {
  let registry: FakeServer;
  let sim: EnvoySim;
  afterEach(async () => {
    await sim?.close();
    await registry?.close();
  });

  it('no route → 404 (NR); unknown cluster port → 503; route timeout → 504', async () => {
    registry = await startServer((req, res) => {
      if (req.url.includes('slow')) return; // never answers
      okBody('x')(req, res);
    });
    sim = await startEnvoySim(
      bootstrap({
        registryPort: registry.port,
        siblingPort: 1,
        processorPort: 1,
        localTimeout: '0.3s',
        extProc: { processing_mode: { request_header_mode: 'SKIP', response_header_mode: 'SKIP' } },
      }),
    );
    const url = sim.listeners[0]?.url ?? '';
    expect((await request(url, '/v2/x/manifests/y', { host: 'unknown.example' })).status).toBe(404);
    expect(sim.stats.get('http.ingress.no_route')).toBe(1);
    const sib = await request(url, '/v2/x/manifests/y', { host: SIBLING_HOST });
    expect(sib.status).toBe(503);
    expect(sib.body.toString()).toContain('upstream connect error');
    const t0 = Date.now();
    const slow = await request(url, '/v2/x/manifests/slow');
    expect(slow.status).toBe(504);
    expect(slow.body.toString()).toBe('upstream request timeout');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    const ok = await request(url, '/v2/x/manifests/y');
    expect(ok.status).toBe(200);
    expect(registry.requests.at(-1)?.headers['x-request-id']).toBeDefined();
    expect(registry.requests.at(-1)?.headers['x-envoy-expected-rq-timeout-ms']).toBe('300');
    expect(sim.stats.sum('streams_started')).toBe(0); // every mode SKIP: no stream opened
  });
});
