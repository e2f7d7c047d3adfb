/**
 * ext_proc as an upstream filter (§1–§4), driven through the simulator with a real grpc-js
 * processor whose replies are scripted per test.
 */
import * as grpc from '@grpc/grpc-js';
import { startEnvoySim, type EnvoySim } from '../../envoy-sim';
import type { Knobs } from '../../envoy-sim/knobs';
import {
  type BootstrapOptions,
  type FakeProcessor,
  type FakeServer,
  type Script,
  SIBLING_HOST,
  bootstrap,
  eventually,
  header,
  notFound,
  okBody,
  redirectingScript,
  request,
  startProcessor,
  startServer,
} from './fixtures';

const MANIFEST = '/v2/team/app/manifests/v1';
const ATTR = 'envoy.filters.http.ext_proc';

describe('upstream ext_proc (§1–§4)', () => {
  let registry: FakeServer;
  let sibling: FakeServer;
  let processor: FakeProcessor | undefined;
  let sim: EnvoySim;

  beforeEach(async () => {
    registry = await startServer(notFound);
    sibling = await startServer(okBody('manifest'));
  });

  afterEach(async () => {
    await sim?.close();
    await Promise.all([registry.close(), sibling.close(), processor?.close()]);
    processor = undefined;
  });

  const toSibling = (p: string) => `http://${SIBLING_HOST}:${sibling.port}${p}`;

  const start = async (script: Script, o: Partial<BootstrapOptions> = {}, knobs: Partial<Knobs> = {}) => {
    processor = await startProcessor(script);
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
  const streams = () => processor?.streams ?? [];

  describe('header encoding (§1.3, §2.3)', () => {
    it('sends raw_value with value empty, and reads only raw_value (value-only mutation is ignored)', async () => {
      const url = await start(redirectingScript(toSibling, true));
      const r = await request(url, MANIFEST);
      expect(r.status).toBe(404);
      const msg = streams()[0]?.messages[0];
      const status = msg?.response_headers?.headers?.headers.find((h) => h.key === ':status');
      expect(status?.raw_value.toString()).toBe('404');
      expect(status?.value).toBe('');
      // `:status: ""` fails the value check: ignored and counted; `location: ""` is an allowed set.
      expect(sim.stats.get('cluster.local_registry.ext_proc.rejected_header_mutations')).toBe(1);
    });

    it('a raw_value mutation works', async () => {
      const url = await start(redirectingScript(toSibling));
      expect((await request(url, MANIFEST)).status).toBe(200);
    });

    it('with sendRawValue=false, sends and reads `value` instead', async () => {
      const url = await start(redirectingScript(toSibling, true), {}, { sendRawValue: false });
      expect((await request(url, MANIFEST)).status).toBe(200);
      const h = streams()[0]?.messages[0]?.response_headers?.headers?.headers.find(
        (x) => x.key === ':status',
      );
      expect(h?.value).toBe('404');
      expect(h?.raw_value.length).toBe(0);
    });

    it('value and raw_value both set is an error reply, whatever failure_mode_allow says (§3.5)', async () => {
      const script: Script = (_m, s) =>
        s.call.write({
          response_headers: {
            response: {
              header_mutation: {
                set_headers: [{ header: { key: 'x-a', value: '1', raw_value: Buffer.from('1') } }],
              },
            },
          },
        });
      const url = await start(script, {}, { upstreamImmediateResponse: true });
      const r = await request(url, MANIFEST);
      expect(r.status).toBe(500);
      expect(sim.stats.sum('rejected_header_mutations')).toBe(1);
    });
  });

  describe(':status and header mutation rules (§2.3)', () => {
    const mutate =
      (set: { key: string; v: string; append?: boolean }[], remove: string[] = []): Script =>
      (_m, s) =>
        s.call.write({
          response_headers: {
            response: {
              header_mutation: {
                set_headers: set.map((h) => ({
                  header: { key: h.key, raw_value: Buffer.from(h.v) },
                  ...(h.append !== undefined ? { append: { value: h.append } } : {}),
                })),
                remove_headers: remove,
              },
            },
          },
        });

    it.each([
      ['below 200', '150'],
      ['not an integer', '30x'],
      ['empty', ''],
    ])(':status %s is ignored and counted', async (_label, value) => {
      const url = await start(mutate([{ key: ':status', v: value }]));
      expect((await request(url, MANIFEST)).status).toBe(404);
      expect(sim.stats.sum('rejected_header_mutations')).toBe(1);
    });

    it('appending to :status, removing :status, host/:authority without allow_all_routing, x-envoy-* are all ignored', async () => {
      const url = await start(
        mutate(
          [
            { key: ':status', v: '200', append: true },
            { key: ':authority', v: 'evil.example' },
            { key: 'x-envoy-upstream-canary', v: 'true' },
            { key: 'x-ok', v: 'yes', append: false },
          ],
          [':status', 'host'],
        ),
      );
      const r = await request(url, MANIFEST);
      expect(r.status).toBe(404);
      expect(r.headers['x-ok']).toBe('yes');
      expect(r.headers['x-envoy-upstream-canary']).toBeUndefined();
      expect(sim.stats.sum('rejected_header_mutations')).toBe(5);
    });

    it('disallow_is_error turns a disallowed mutation into an error reply', async () => {
      const url = await start(
        mutate([{ key: 'x-envoy-foo', v: '1' }]),
        { extProc: { mutation_rules: { disallow_is_error: true } } },
        { upstreamImmediateResponse: true },
      );
      expect((await request(url, MANIFEST)).status).toBe(500);
    });
  });

  describe('processing modes, attributes and mode_override (§1.2–§1.6)', () => {
    it('sends attributes only in the first message of each direction, keyed envoy.filters.http.ext_proc', async () => {
      const url = await start(redirectingScript(toSibling), {
        extProc: {
          processing_mode: { request_header_mode: 'SEND', response_header_mode: 'SEND' },
          request_attributes: ['request.method'],
          response_attributes: ['request.path', 'response.code', "request.headers['x-missing']"],
        },
      });
      expect((await request(url, MANIFEST)).status).toBe(200);
      const [req, res] = streams()[0]?.messages ?? [];
      expect(req?.attributes[ATTR]?.fields['request.method']?.stringValue).toBe('GET');
      const f = res?.attributes[ATTR]?.fields ?? {};
      expect(f['request.path']?.stringValue).toBe(MANIFEST);
      expect(f['response.code']?.numberValue).toBe(404);
      expect(f["request.headers['x-missing']"]).toBeUndefined(); // failed expression omitted
      expect(req?.request_headers?.end_of_stream).toBe(true);
      expect(header(req!, ':path')).toBe(MANIFEST);
    });

    it('before 1.37 an encode-only filter lacks request-header attributes (§1.4)', async () => {
      const url = await start(redirectingScript(toSibling), {}, { envoyVersion: '1.31' });
      await request(url, MANIFEST);
      const f = streams()[0]?.messages[0]?.attributes[ATTR]?.fields ?? {};
      expect(f['request.path']).toBeUndefined();
      expect(f['response.code']?.numberValue).toBe(404);
      await sim.close();
      sim = await startEnvoySim(
        bootstrap({ registryPort: registry.port, siblingPort: sibling.port, processorPort: processor!.port }),
        { envoyVersion: '1.37' },
      );
      await request(sim.listeners[0]?.url ?? '', MANIFEST);
      expect(streams()[1]?.messages[0]?.attributes[ATTR]?.fields['request.path']?.stringValue).toBe(MANIFEST);
    });

    it('mode_override SKIP in the request-headers reply skips the response phase', async () => {
      const url = await start(
        (m, s) => {
          if (m.request === 'request_headers')
            s.call.write({ request_headers: {}, mode_override: { response_header_mode: 'SKIP' } });
          else s.call.write({ response_headers: {} });
        },
        { extProc: { processing_mode: { request_header_mode: 'SEND', response_header_mode: 'SEND' } } },
      );
      expect((await request(url, MANIFEST)).status).toBe(404);
      expect(streams()[0]?.messages.map((m) => m.request)).toEqual(['request_headers']);
    });

    it('mode_override is ignored without allow_mode_override', async () => {
      const url = await start(
        (m, s) => {
          if (m.request === 'request_headers')
            s.call.write({ request_headers: {}, mode_override: { response_header_mode: 'SKIP' } });
          else s.call.write({ response_headers: {} });
        },
        {
          extProc: {
            allow_mode_override: false,
            processing_mode: { request_header_mode: 'SEND', response_header_mode: 'SEND' },
          },
        },
      );
      await request(url, MANIFEST);
      expect(streams()[0]?.messages.map((m) => m.request)).toEqual(['request_headers', 'response_headers']);
    });

    it('mode_override DEFAULT: before 1.34 means SEND, from 1.34 keeps the configured SKIP', async () => {
      const script: Script = (m, s) => {
        if (m.request === 'request_headers')
          s.call.write({ request_headers: {}, mode_override: { request_header_mode: 'SEND' } });
        else s.call.write({ response_headers: {} });
      };
      const o = {
        extProc: { processing_mode: { request_header_mode: 'SEND', response_header_mode: 'SKIP' } },
      };
      let url = await start(script, o, { envoyVersion: '1.31' });
      await request(url, MANIFEST);
      expect(streams()[0]?.messages.map((m) => m.request)).toEqual(['request_headers', 'response_headers']);
      await sim.close();
      await processor?.close();
      url = await start(script, o, { envoyVersion: '1.34' });
      await request(url, MANIFEST);
      expect(streams()[0]?.messages.map((m) => m.request)).toEqual(['request_headers']);
    });
  });

  describe('exactly one reply per message (§1.5, §3.4)', () => {
    it('a reply of the wrong kind is spurious: counted, stream closed, response continues (FMA=true)', async () => {
      const url = await start((_m, s) => s.call.write({ request_headers: {} }));
      expect((await request(url, MANIFEST)).status).toBe(404);
      expect(sim.stats.sum('spurious_msgs_received')).toBe(1);
      await eventually(() => expect(streams()[0]?.events).toContain('cancelled'));
    });

    it('a second reply while idle is spurious and stops processing for the request', async () => {
      await registry.close();
      registry = await startServer((req, res) => setTimeout(() => notFound(req, res), 100));
      const url = await start(
        (m, s) => {
          if (m.request === 'request_headers') {
            s.call.write({ request_headers: {} });
            s.call.write({ request_headers: {} });
          } else redirectingScript(toSibling)(m, s);
        },
        {
          extProc: { processing_mode: { request_header_mode: 'SEND', response_header_mode: 'SEND' } },
          registryPort: registry.port,
        },
        { envoyVersion: '1.31' },
      );
      expect((await request(url, MANIFEST)).status).toBe(404);
      expect(sim.stats.sum('spurious_msgs_received')).toBe(1);
      expect(streams()[0]?.messages.map((m) => m.request)).toEqual(['request_headers']);
    });

    it('from 1.35 a spurious reply with FMA=false is an error reply', async () => {
      const url = await start(
        (_m, s) => s.call.write({ request_headers: {} }),
        { extProc: { failure_mode_allow: false } },
        { envoyVersion: '1.35', upstreamImmediateResponse: true },
      );
      expect((await request(url, MANIFEST)).status).toBe(500);
    });
  });

  describe('message_timeout and failure_mode_allow (§2.7, §3)', () => {
    const silent: Script = () => undefined;

    it('FMA=true: the timer fires, the original 404 passes', async () => {
      const url = await start(silent);
      const t0 = Date.now();
      expect((await request(url, MANIFEST)).status).toBe(404);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(180);
      expect(sim.stats.sum('message_timeouts')).toBe(1);
      expect(sim.stats.sum('failure_mode_allowed')).toBe(1);
    });

    it('FMA=false on an old Envoy: the local reply is ignored upstream and the attempt hangs until the route timeout', async () => {
      const url = await start(
        silent,
        { extProc: { failure_mode_allow: false }, localTimeout: '0.6s' },
        { envoyVersion: '1.31' },
      );
      const t0 = Date.now();
      const r = await request(url, MANIFEST);
      expect(r.status).toBe(504);
      expect(r.body.toString()).toBe('upstream request timeout');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(550);
      expect(sim.stats.sum('send_immediate_resp_upstream_ignored')).toBe(1);
    });

    it.each([
      [504, '1.32'],
      [500, '1.31'],
    ] as const)('FMA=false with upstream local replies: %d (Envoy %s)', async (status, envoyVersion) => {
      const url = await start(
        silent,
        { extProc: { failure_mode_allow: false } },
        { envoyVersion, upstreamImmediateResponse: true },
      );
      expect((await request(url, MANIFEST)).status).toBe(status);
    });

    it('override_message_timeout extends the timer only with max_message_timeout', async () => {
      const url = await start(
        (m, s) => {
          s.call.write({ override_message_timeout: { seconds: 1 } });
          setTimeout(() => redirectingScript(toSibling)(m, s), 400);
        },
        { extProc: { max_message_timeout: '2s' } },
      );
      expect((await request(url, MANIFEST)).status).toBe(200);
      expect(sim.stats.sum('override_message_timeout_received')).toBe(1);
    });
  });

  describe('side-stream failures (§3.2, §3.3, §3.6)', () => {
    it('processor unreachable, FMA=true: plain 404, streams_failed and failure_mode_allowed counted', async () => {
      const url = await start(() => undefined);
      await processor?.close();
      const r = await request(url, MANIFEST);
      expect(r.status).toBe(404);
      expect(sim.stats.sum('streams_failed')).toBe(1);
      expect(sim.stats.sum('failure_mode_allowed')).toBe(1);
    });

    it('processor ends the stream with an error status, FMA=true: continue', async () => {
      const url = await start((_m, s) =>
        s.call.emit('error', { code: grpc.status.INTERNAL, details: 'boom' }),
      );
      expect((await request(url, MANIFEST)).status).toBe(404);
      expect(sim.stats.sum('streams_failed')).toBe(1);
    });

    it('processor closes cleanly before replying: continue even with FMA=false', async () => {
      const url = await start((_m, s) => s.call.end(), { extProc: { failure_mode_allow: false } });
      expect((await request(url, MANIFEST)).status).toBe(404);
      expect(sim.stats.sum('streams_failed')).toBe(0);
    });
  });

  describe('immediate_response and clear_route_cache upstream (§2.4, §2.5)', () => {
    const immediate: Script = (_m, s) =>
      s.call.write({ immediate_response: { status: { code: 'TemporaryRedirect' }, details: 'x' } });

    it('old Envoy ignores an upstream immediate_response: the attempt hangs until the route timeout', async () => {
      const url = await start(immediate, { localTimeout: '0.4s' }, { envoyVersion: '1.31' });
      expect((await request(url, MANIFEST)).status).toBe(504);
      expect(sim.stats.sum('send_immediate_resp_upstream_ignored')).toBe(1);
    });

    it('new Envoy sends it as a local reply that bypasses internal redirects', async () => {
      const url = await start(immediate, {}, { upstreamImmediateResponse: true });
      const r = await request(url, MANIFEST);
      expect(r.status).toBe(307);
      expect(sibling.requests).toHaveLength(0);
    });

    it('clear_route_cache is counted and ignored', async () => {
      const url = await start((_m, s) =>
        s.call.write({ response_headers: { response: { clear_route_cache: true } } }),
      );
      expect((await request(url, MANIFEST)).status).toBe(404);
      expect(sim.stats.sum('clear_route_cache_upstream_ignored')).toBe(1);
    });
  });

  describe('stream lifecycle (§1.1, §1.8)', () => {
    it('one stream per upstream attempt, closed with half-close then cancel at the end of the attempt', async () => {
      const url = await start(redirectingScript(toSibling), {}, { envoyVersion: '1.31' });
      await request(url, MANIFEST);
      await request(url, MANIFEST);
      expect(streams()).toHaveLength(2);
      await eventually(() =>
        expect(streams()[0]?.events).toEqual(['msg:response_headers', 'end', 'cancelled']),
      );
      expect(sim.stats.sum('streams_started')).toBe(2);
      expect(sim.stats.sum('streams_closed')).toBe(2);
      expect(sim.stats.sum('stream_msgs_sent')).toBe(2);
      expect(sim.stats.sum('stream_msgs_received')).toBe(2);
    });

    it('from 1.37 the stream closes right after the last expected reply, before the body is done', async () => {
      await registry.close();
      let release: () => void = () => undefined;
      registry = await startServer((_req, res) => {
        res.writeHead(200, { 'content-length': '4' });
        res.write('ab');
        release = () => res.end('cd');
      });
      const url = await start(
        (_m, s) => s.call.write({ response_headers: {} }),
        { registryPort: registry.port },
        {
          envoyVersion: '1.37',
        },
      );
      const pending = request(url, MANIFEST);
      await eventually(() =>
        expect(streams()[0]?.events).toEqual(['msg:response_headers', 'end', 'cancelled']),
      );
      release();
      expect((await pending).body.toString()).toBe('abcd');
    });
  });

  it('serves Envoy-style admin /stats and /clusters', async () => {
    const url = await start(redirectingScript(toSibling), { admin: true });
    await request(url, MANIFEST);
    const text = await (await fetch(`${sim.adminUrl}/stats`)).text();
    expect(text).toContain('cluster.local_registry.upstream_internal_redirect_succeeded_total: 1\n');
    expect(text).toContain('cluster.local_registry.ext_proc.streams_started: 1\n');
    expect(await (await fetch(`${sim.adminUrl}/ready`)).text()).toBe('LIVE\n');
    expect(await (await fetch(`${sim.adminUrl}/clusters`)).text()).toContain(
      `sibling::127.0.0.1:${sibling.port}::health_flags::healthy`,
    );
    expect(await sim.counter('upstream_internal_redirect_succeeded_total')).toBe(1);
  });
});
