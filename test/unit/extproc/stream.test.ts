import type { DecisionRecord } from '../../../src/decide/decision';
import type { FreshnessResult } from '../../../src/tag-freshness/check';
import type { ListAccess } from '../../../src/tag-list/list-access';
import type { SiblingTagsResult } from '../../../src/tag-list/sibling-tags';
import { TagListUnion } from '../../../src/tag-list/union';
import { windowOf } from '../../../src/tag-list/window';
import type { ProcessingResponse__Output } from '../../../src/generated/envoy/service/ext_proc/v3/ProcessingResponse';
import { StreamProcessor, type StreamContext } from '../../../src/extproc/stream';
import { ATTRIBUTE, clientAddress } from '../../../src/extproc/headers';
import type { ProcessingRequest__Output } from '../../../src/generated/envoy/service/ext_proc/v3/ProcessingRequest';
import type { LocateResult, Locator } from '../../../src/locate/locator';
import { DEFAULT_PULL_POLICY, type PullTarget } from '../../../src/oci/pull';
import { ManualClock } from '../../support/clock';
import {
  requestHeadersMessage,
  responseHeadersMessage,
  setHeaders,
} from '../../support/clients/extproc-client';

const DIGEST = `sha256:${'c'.repeat(64)}`;

/** Messages as grpc-js hands them to the server (defaults filled in). */
function asOutput(msg: object): ProcessingRequest__Output {
  return {
    metadata_context: null,
    attributes: {},
    observability_mode: false,
    ...msg,
  } as ProcessingRequest__Output;
}

class ScriptedLocator implements Locator {
  calls: PullTarget[] = [];
  clients: (string | undefined)[] = [];
  cached?: (t: PullTarget) => LocateResult | undefined;
  constructor(private readonly answer: (t: PullTarget, s: AbortSignal) => Promise<LocateResult>) {}
  locate(t: PullTarget, s: AbortSignal, client?: string) {
    this.calls.push(t);
    this.clients.push(client);
    return this.answer(t, s);
  }
  async close() {}
}

function setup(answer: (t: PullTarget, s: AbortSignal) => Promise<LocateResult>) {
  const clock = new ManualClock();
  const locator = new ScriptedLocator(answer);
  const decisions: DecisionRecord[] = [];
  const ctx: StreamContext = {
    locator,
    clock,
    lookupTimeoutMs: 150,
    regionUrls: new Map([
      ['a', 'https://registry-a.example.com'],
      ['c', 'http://127.0.0.1:5103'],
    ]),
    onDecision: (r) => decisions.push(r),
  };
  return { clock, locator, decisions, processor: new StreamProcessor(ctx) };
}

const never = new AbortController().signal;

/** The context of `setup` with one sibling, a, for the suites that add tag freshness or tag lists. */
function siblingA(s: ReturnType<typeof setup>): StreamContext {
  return {
    locator: s.locator,
    clock: s.clock,
    lookupTimeoutMs: 150,
    regionUrls: new Map([['a', 'https://registry-a.example.com']]),
    onDecision: (r) => s.decisions.push(r),
  };
}

describe('StreamProcessor', () => {
  test('404 on an eligible GET → 307 to the holder, original path and query kept', async () => {
    const { processor, decisions } = setup(async () => ({ outcome: 'found', region: 'a' }));
    const r1 = await processor.step(
      asOutput(requestHeadersMessage({ ':method': 'GET', ':path': `/v2/team/app/blobs/${DIGEST}?x=1` })),
      never,
    );
    // The stream stays open for the response headers.
    expect(r1).toEqual({ reply: { request_headers: {} }, last: false });
    const r2 = await processor.step(asOutput(responseHeadersMessage(404)), never);
    if (!('reply' in r2)) throw new Error('expected a reply');
    expect(setHeaders(r2.reply as never)).toEqual({
      ':status': '307',
      location: `https://registry-a.example.com/v2/team/app/blobs/${DIGEST}?x=1`,
      'x-geosync-redirect': '1',
    });
    expect(decisions).toEqual([
      expect.objectContaining({ outcome: 'proxied', kind: 'blob', sourceRegion: 'a' }),
    ]);
  });

  test('ineligible request headers → CONTINUE with response_header_mode SKIP, no lookup', async () => {
    const { processor, locator, decisions } = setup(async () => ({ outcome: 'found', region: 'a' }));
    const r = await processor.step(
      asOutput(requestHeadersMessage({ ':method': 'HEAD', ':path': `/v2/app/blobs/${DIGEST}` })),
      never,
    );
    // Nothing more is needed from this stream: geosync ends it (`last`).
    expect(r).toEqual({
      reply: { request_headers: {}, mode_override: { response_header_mode: 'SKIP' } },
      last: true,
    });
    // An Envoy without allow_mode_override still sends the response headers: they pass.
    const r2 = await processor.step(asOutput(responseHeadersMessage(404)), never);
    expect('reply' in r2 && setHeaders(r2.reply as never)).toEqual({});
    expect(locator.calls).toHaveLength(0);
    expect(decisions).toEqual([{ outcome: 'ineligible', reason: 'blob_head' }]);
  });

  test('SKIP mode: the request comes from response_attributes', async () => {
    const { processor, locator } = setup(async () => ({ outcome: 'found', region: 'c' }));
    const r = await processor.step(
      asOutput(
        responseHeadersMessage(404, {
          attributes: { 'request.path': '/v2/app/manifests/v1', 'request.method': 'HEAD' },
        }),
      ),
      never,
    );
    expect('reply' in r && setHeaders(r.reply as never)).toEqual({
      ':status': '307',
      location: 'http://127.0.0.1:5103/v2/app/manifests/v1',
      'x-geosync-redirect': '1',
    });
    expect(locator.calls).toEqual([{ kind: 'manifest_by_tag', repository: 'app', tag: 'v1' }]);
  });

  test("the client's address (source.address, port dropped) reaches the locator; a pusher's token skips it", async () => {
    const { processor, locator } = setup(async () => ({ outcome: 'found', region: 'c' }));
    await processor.step(
      asOutput(
        responseHeadersMessage(404, {
          attributes: {
            [ATTRIBUTE.path]: '/v2/app/manifests/v1',
            [ATTRIBUTE.method]: 'GET',
            [ATTRIBUTE.sourceAddress]: '10.0.4.17:53122',
          },
        }),
      ),
      never,
    );
    expect(locator.clients).toEqual(['10.0.4.17']);
    const claims = Buffer.from(
      JSON.stringify({ access: [{ type: 'repository', name: 'app', actions: ['push'] }] }),
    );
    const pusher = setup(async () => ({ outcome: 'found', region: 'c' }));
    const r = await pusher.processor.step(
      asOutput(
        responseHeadersMessage(404, {
          attributes: {
            [ATTRIBUTE.path]: '/v2/app/manifests/v1',
            [ATTRIBUTE.method]: 'HEAD',
            [ATTRIBUTE.bearer]: `Bearer e30.${claims.toString('base64url')}.c2ln`,
          },
        }),
      ),
      never,
    );
    expect('reply' in r && setHeaders(r.reply as never)).toEqual({});
    expect(pusher.locator.calls).toHaveLength(0);
    expect(pusher.decisions).toEqual([{ outcome: 'ineligible', reason: 'pusher' }]);
  });

  test("a listed Basic user's manifest HEAD (the user-id Envoy derived) skips the lookup; its GET and others' HEADs do not", async () => {
    const head = (attrs: Record<string, string>) => {
      const s = setup(async () => ({ outcome: 'found', region: 'c' }));
      const processor = new StreamProcessor({
        locator: s.locator,
        clock: s.clock,
        lookupTimeoutMs: 150,
        regionUrls: new Map([['c', 'http://127.0.0.1:5103']]),
        pullPolicy: { ...DEFAULT_PULL_POLICY, pushCheckBasicUsers: ['ci-robot'] },
        onDecision: (r) => s.decisions.push(r),
      });
      const msg = responseHeadersMessage(404, {
        attributes: { [ATTRIBUTE.path]: '/v2/app/manifests/v1', [ATTRIBUTE.method]: 'HEAD', ...attrs },
      });
      return processor.step(asOutput(msg), never).then((r) => ({ r, ...s }));
    };
    const robot = await head({ [ATTRIBUTE.basicUser]: 'ci-robot' });
    expect('reply' in robot.r && setHeaders(robot.r.reply as never)).toEqual({});
    expect(robot.locator.calls).toHaveLength(0);
    expect(robot.decisions).toEqual([{ outcome: 'ineligible', reason: 'pusher' }]);
    const others: Record<string, string>[] = [
      { [ATTRIBUTE.basicUser]: 'dev' },
      {},
      { [ATTRIBUTE.basicUser]: 'ci-robot:pw' },
    ];
    for (const other of others) {
      const pull = await head(other);
      expect('reply' in pull.r && setHeaders(pull.r.reply as never)[':status']).toBe('307');
    }
    const get = await head({ [ATTRIBUTE.basicUser]: 'ci-robot', [ATTRIBUTE.method]: 'GET' });
    expect('reply' in get.r && setHeaders(get.r.reply as never)[':status']).toBe('307');
  });

  test.each([
    ['10.0.4.17:53122', '10.0.4.17'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['pipe-or-unknown', 'pipe-or-unknown'],
    ['', undefined],
  ])('clientAddress(%j) = %j', (value, client) => {
    expect(clientAddress(value)).toBe(client);
  });

  test('a pull another region forwarded (x-geosync-forwarded-by) → passes, no lookup', async () => {
    const { processor, locator } = setup(async () => ({ outcome: 'found', region: 'c' }));
    const r = await processor.step(
      asOutput(
        responseHeadersMessage(404, {
          attributes: {
            'request.path': '/v2/app/manifests/v1',
            'request.method': 'GET',
            "request.headers['x-geosync-forwarded-by']": 'b',
          },
        }),
      ),
      never,
    );
    expect('reply' in r && setHeaders(r.reply as never)).toEqual({});
    expect(locator.calls).toHaveLength(0);
  });

  test('response headers with neither request headers nor attributes → pass', async () => {
    const { processor, locator, decisions } = setup(async () => ({ outcome: 'found', region: 'a' }));
    const r = await processor.step(asOutput(responseHeadersMessage(404)), never);
    expect('reply' in r && setHeaders(r.reply as never)).toEqual({});
    expect(locator.calls).toHaveLength(0);
    expect(decisions).toEqual([{ outcome: 'ineligible', reason: 'missing_request' }]);
  });

  test.each([200, 206, 301, 307, 401, 500])('status %i → plain CONTINUE without lookup', async (status) => {
    const { processor, locator } = setup(async () => ({ outcome: 'found', region: 'a' }));
    await processor.step(
      asOutput(requestHeadersMessage({ ':method': 'GET', ':path': '/v2/app/manifests/v1' })),
      never,
    );
    const r = await processor.step(asOutput(responseHeadersMessage(status)), never);
    expect('reply' in r && setHeaders(r.reply as never)).toEqual({});
    expect(locator.calls).toHaveLength(0);
  });

  test('lookup slower than the deadline → CONTINUE, outcome timeout, locator signal aborted', async () => {
    let seen: AbortSignal | undefined;
    const { processor, clock, decisions } = setup(
      (_t, s) =>
        new Promise(() => {
          seen = s;
        }),
    );
    await processor.step(
      asOutput(requestHeadersMessage({ ':method': 'GET', ':path': '/v2/app/manifests/v1' })),
      never,
    );
    const pending = processor.step(asOutput(responseHeadersMessage(404)), never);
    await Promise.resolve();
    clock.advance(150);
    const r = await pending;
    expect('reply' in r && setHeaders(r.reply as never)).toEqual({});
    expect(seen?.aborted).toBe(true);
    expect(decisions).toEqual([
      expect.objectContaining({ outcome: 'timeout', kind: 'manifest_by_tag', lookupMs: 150 }),
    ]);
  });

  test('an answer the locator hands over in the same turn as the deadline timer → 307', async () => {
    let answer: (r: LocateResult) => void = () => {};
    const { processor, clock, decisions } = setup(() => new Promise((resolve) => (answer = resolve)));
    await processor.step(
      asOutput(requestHeadersMessage({ ':method': 'GET', ':path': '/v2/app/manifests/v1' })),
      never,
    );
    const pending = processor.step(asOutput(responseHeadersMessage(404)), never);
    await Promise.resolve();
    clock.advance(150);
    answer({ outcome: 'found', region: 'a' });
    const r = await pending;
    expect('reply' in r && setHeaders(r.reply as never)[':status']).toBe('307');
    expect(decisions).toEqual([expect.objectContaining({ outcome: 'proxied', sourceRegion: 'a' })]);
  });

  test('a locator that throws → CONTINUE, outcome error', async () => {
    const { processor, decisions } = setup(async () => {
      throw new TypeError('boom');
    });
    await processor.step(
      asOutput(requestHeadersMessage({ ':method': 'GET', ':path': '/v2/app/manifests/v1' })),
      never,
    );
    const r = await processor.step(asOutput(responseHeadersMessage(404)), never);
    expect('reply' in r && setHeaders(r.reply as never)).toEqual({});
    expect(decisions[0]).toMatchObject({ outcome: 'error', reason: 'locator_threw:TypeError' });
  });

  test('a shed lookup → CONTINUE at once, recorded as pass with reason shed', async () => {
    const { processor, decisions } = setup(async () => ({ outcome: 'shed' }));
    await processor.step(
      asOutput(requestHeadersMessage({ ':method': 'GET', ':path': '/v2/app/manifests/v1' })),
      never,
    );
    const r = await processor.step(asOutput(responseHeadersMessage(404)), never);
    expect('reply' in r && setHeaders(r.reply as never)).toEqual({});
    expect(decisions).toEqual([
      expect.objectContaining({ outcome: 'pass', kind: 'manifest_by_tag', reason: 'shed' }),
    ]);
  });

  test('not found → CONTINUE (the 404 passes)', async () => {
    const { processor, decisions } = setup(async () => ({ outcome: 'not_found' }));
    await processor.step(
      asOutput(requestHeadersMessage({ ':method': 'GET', ':path': '/v2/app/manifests/v1' })),
      never,
    );
    const r = await processor.step(asOutput(responseHeadersMessage(404)), never);
    expect('reply' in r && r.reply.response_headers).toEqual({});
    expect(decisions[0]).toMatchObject({ outcome: 'not_found' });
  });

  test('a holder this instance has no URL for → CONTINUE, outcome error no_region_url', async () => {
    const { processor, decisions } = setup(async () => ({ outcome: 'found', region: 'zz' }));
    await processor.step(
      asOutput(requestHeadersMessage({ ':method': 'GET', ':path': '/v2/app/manifests/v1' })),
      never,
    );
    const r = await processor.step(asOutput(responseHeadersMessage(404)), never);
    expect('reply' in r && setHeaders(r.reply as never)).toEqual({});
    expect(decisions).toEqual([expect.objectContaining({ outcome: 'error', reason: 'no_region_url' })]);
  });

  test('Envoy cancelling the stream mid-lookup records no decision (a client leaving is no error)', async () => {
    const { processor, decisions } = setup(
      (_t, s) =>
        new Promise((resolve) => s.addEventListener('abort', () => resolve({ outcome: 'not_found' }))),
    );
    await processor.step(
      asOutput(requestHeadersMessage({ ':method': 'GET', ':path': '/v2/app/manifests/v1' })),
      never,
    );
    const cancel = new AbortController();
    const pending = processor.step(asOutput(responseHeadersMessage(404)), cancel.signal);
    cancel.abort();
    await pending;
    expect(decisions).toEqual([]);
  });

  test('body and trailer messages get a reply of the matching kind', async () => {
    const { processor } = setup(async () => ({ outcome: 'not_found' }));
    for (const phase of ['request_body', 'response_body', 'request_trailers', 'response_trailers'] as const) {
      const r = await processor.step(asOutput({ [phase]: {}, request: phase }), never);
      expect(r).toEqual({ reply: { [phase]: {} } });
    }
  });

  test('a message with no request kind is a protocol error', async () => {
    const { processor } = setup(async () => ({ outcome: 'not_found' }));
    expect(await processor.step(asOutput({}), never)).toEqual({
      protocolError: 'ProcessingRequest carries no request/response message',
    });
  });

  test('an answer the locator already has (its cache) is used at once: no lookup, no deadline timer', async () => {
    const { processor, locator, clock, decisions } = setup(async () => ({ outcome: 'not_found' }));
    locator.cached = () => ({ outcome: 'found', region: 'a' });
    let timersSet = 0;
    const setTimer = clock.setTimer.bind(clock);
    clock.setTimer = (fn, ms) => (timersSet++, setTimer(fn, ms));
    await processor.step(
      asOutput(requestHeadersMessage({ ':method': 'GET', ':path': `/v2/team/app/blobs/${DIGEST}` })),
      never,
    );
    const r = await processor.step(asOutput(responseHeadersMessage(404)), never);
    if (!('reply' in r)) throw new Error('expected a reply');
    expect(setHeaders(r.reply as never)).toMatchObject({ ':status': '307' });
    expect(locator.calls).toEqual([]);
    expect(timersSet).toBe(0);
    expect(decisions).toEqual([expect.objectContaining({ outcome: 'proxied', lookupMs: 0 })]);
  });
});

test('the pull policy reaches the stream: with proxyManifestHeadByDigest off, a digest HEAD is settled at once', async () => {
  const decisions: DecisionRecord[] = [];
  const processor = new StreamProcessor({
    locator: new ScriptedLocator(async () => ({ outcome: 'found', region: 'a' })),
    clock: new ManualClock(),
    lookupTimeoutMs: 150,
    pullPolicy: { ...DEFAULT_PULL_POLICY, proxyManifestHeadByDigest: false },
    regionUrls: new Map([['a', 'https://registry-a.example.com']]),
    onDecision: (r) => decisions.push(r),
  });
  const r = await processor.step(
    asOutput(requestHeadersMessage({ ':method': 'HEAD', ':path': `/v2/app/manifests/${DIGEST}` })),
    never,
  );
  expect(r).toEqual({
    reply: { request_headers: {}, mode_override: { response_header_mode: 'SKIP' } },
    last: true,
  });
  expect(decisions).toEqual([{ outcome: 'ineligible', reason: 'manifest_head_by_digest' }]);
});

describe('StreamProcessor with tag freshness', () => {
  const V1 = `sha256:${'1'.repeat(64)}`;
  const checks: { repository: string; tag: string; localDigest: string }[] = [];
  const withFreshness = (result: FreshnessResult | 'hang') => {
    const s = setup(async () => ({ outcome: 'not_found' }));
    checks.length = 0;
    const ctx: StreamContext = {
      ...siblingA(s),
      freshness: {
        checks: () => true,
        check: (repository, tag, localDigest, signal) => {
          checks.push({ repository, tag, localDigest });
          if (result !== 'hang') return Promise.resolve({ result, shared: 'own' as const });
          return new Promise((resolve) =>
            signal.addEventListener('abort', () =>
              resolve({ result: { verdict: 'timeout' }, shared: 'own' }),
            ),
          );
        },
      },
    };
    return { ...s, processor: new StreamProcessor(ctx) };
  };
  const ok200 = (p: string, digest?: string, method = 'GET') =>
    asOutput(
      responseHeadersMessage(200, {
        attributes: { 'request.path': p, 'request.method': method },
        ...(digest ? { headers: { 'docker-content-digest': digest } } : {}),
      }),
    );

  test('a sibling whose tag moved past the local digest: the 200 becomes a 307 there, outcome fresher', async () => {
    const modified = new Date('2026-12-01T00:00:00Z');
    const { processor, decisions } = withFreshness({
      verdict: 'newer',
      region: 'a',
      digest: 'sha256:x',
      modified,
    });
    const r = await processor.step(ok200('/v2/team/app/manifests/prod?x=1', V1, 'HEAD'), never);
    expect('reply' in r && setHeaders(r.reply as never)).toEqual({
      ':status': '307',
      location: 'https://registry-a.example.com/v2/team/app/manifests/prod?x=1',
      'x-geosync-redirect': '1',
    });
    expect(checks).toEqual([{ repository: 'team/app', tag: 'prod', localDigest: V1 }]);
    expect(decisions).toEqual([
      expect.objectContaining({
        outcome: 'fresher',
        kind: 'manifest_by_tag',
        sourceRegion: 'a',
        sourceLastModified: modified,
        check: 'freshness',
      }),
    ]);
  });

  test.each<[string, FreshnessResult, object]>([
    ['fresh', { verdict: 'fresh' }, { outcome: 'pass', reason: 'fresh' }],
    ['conflict', { verdict: 'conflict', regions: ['a'] }, { outcome: 'pass', reason: 'conflict' }],
    ['error', { verdict: 'error', code: 'a:unavailable' }, { outcome: 'error', reason: 'a:unavailable' }],
  ])('%s: the local 200 stands', async (_name, result, expected) => {
    const { processor, decisions } = withFreshness(result);
    const r = await processor.step(ok200('/v2/team/app/manifests/prod', V1), never);
    expect('reply' in r && setHeaders(r.reply as never)).toEqual({});
    expect(decisions).toEqual([expect.objectContaining({ ...expected, check: 'freshness' })]);
  });

  test('a check that does not answer: the 200 stands at the lookup deadline (outcome timeout)', async () => {
    const { processor, decisions, clock } = withFreshness('hang');
    const pending = processor.step(ok200('/v2/team/app/manifests/prod', V1), never);
    await flushPromises();
    clock.advance(150);
    const r = await pending;
    expect('reply' in r && setHeaders(r.reply as never)).toEqual({});
    expect(decisions).toEqual([expect.objectContaining({ outcome: 'timeout', check: 'freshness' })]);
  });

  test.each([
    ['a 200 without the digest header', ok200('/v2/team/app/manifests/prod')],
    ['a 200 with a malformed digest header', ok200('/v2/team/app/manifests/prod', 'not-a-digest')],
    ['a manifest by digest', ok200(`/v2/team/app/manifests/${DIGEST}`, DIGEST)],
    ['a blob', ok200(`/v2/team/app/blobs/${DIGEST}`, DIGEST)],
  ])('nothing to compare, or nothing to check: %s passes unchecked', async (_name, msg) => {
    const { processor, decisions } = withFreshness({ verdict: 'newer', region: 'a', digest: 'sha256:x' });
    const r = await processor.step(msg, never);
    expect('reply' in r && setHeaders(r.reply as never)).toEqual({});
    expect(checks).toEqual([]);
    expect(decisions).toEqual([expect.objectContaining({ outcome: 'pass' })]);
    expect(decisions[0]?.check).toBeUndefined();
  });
});

async function flushPromises(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

test('a client-sent request id reaches decisions as one value of at most 256 characters', async () => {
  const clock = new ManualClock();
  const metas: (string | undefined)[] = [];
  const processor = new StreamProcessor({
    locator: new ScriptedLocator(async () => ({ outcome: 'not_found' })),
    clock,
    lookupTimeoutMs: 150,
    regionUrls: new Map(),
    onDecision: (_r, meta) => metas.push(meta.requestId),
  });
  const id = 'x'.repeat(300) + '\n route=fake';
  await processor.step(
    asOutput(
      responseHeadersMessage(404, {
        attributes: {
          'request.path': `/v2/team/app/blobs/${DIGEST}`,
          'request.method': 'GET',
          'request.id': id,
        },
      }),
    ),
    never,
  );
  expect(metas).toEqual(['x'.repeat(256)]);
});

describe('StreamProcessor with tag lists', () => {
  /** The real union over scripted sibling tags (sibling a) and a scripted answer of a's registry. */
  const withTagLists = (answer: SiblingTagsResult | 'hang', access: ListAccess = 'allowed') => {
    const s = setup(async () => ({ outcome: 'not_found' }));
    const asked: string[] = [];
    const credentials: (string | undefined)[] = [];
    const union = new TagListUnion(
      {
        cached: () => undefined,
        tags: (repository, after, signal) => {
          asked.push(repository);
          if (answer === 'hang')
            return new Promise((resolve) =>
              signal.addEventListener('abort', () => resolve({ status: 'timeout' })),
            );
          if (answer.status !== 'found') return Promise.resolve(answer);
          return Promise.resolve({
            ...answer,
            siblings: answer.siblings.map((x) => ({
              ...x,
              window: windowOf(x.window.tags, after, undefined),
            })),
          });
        },
      },
      {
        cached: () => undefined,
        check: async (_region, _repository, authorization) => {
          credentials.push(authorization);
          return access;
        },
      },
    );
    const ctx: StreamContext = { ...siblingA(s), tagLists: union };
    return { ...s, asked, credentials, processor: new StreamProcessor(ctx) };
  };
  const listed = (status: number, p: string, headers?: Record<string, string>) =>
    asOutput(
      responseHeadersMessage(status, {
        attributes: { 'request.path': p, 'request.method': 'GET' },
        ...(headers ? { headers } : {}),
      }),
    );
  const body = (text: string, endOfStream = true) =>
    asOutput({ response_body: { body: Buffer.from(text), end_of_stream: endOfStream } });
  const found = (tags: string[], failed: string[] = []): SiblingTagsResult => ({
    status: 'found',
    siblings: [{ region: 'a', window: { tags } }],
    failed,
  });

  test("a local 200: Envoy is asked for the body, which becomes the union; the registry's Link goes", async () => {
    const { processor, decisions } = withTagLists(found(['v2']));
    const r1 = await processor.step(listed(200, '/v2/team/app/tags/list'), never);
    expect(r1).toMatchObject({ reply: { mode_override: { response_body_mode: 'BUFFERED_PARTIAL' } } });
    expect('last' in r1 && r1.last).toBe(false);
    const r2 = await processor.step(body('{"name":"team/app","tags":["v1"]}\n'), never);
    expect('last' in r2 && r2.last).toBe(true);
    const reply = (r2 as { reply: ProcessingResponse__Output }).reply;
    expect(reply.response_body?.response?.body_mutation?.body?.toString()).toBe(
      '{"name":"team/app","tags":["v1","v2"]}\n',
    );
    expect(reply.response_body?.response?.header_mutation?.remove_headers).toEqual([
      'content-length',
      'link',
    ]);
    expect(decisions).toEqual([expect.objectContaining({ outcome: 'merged', kind: 'tag_list' })]);
  });

  test('a local 404 NAME_UNKNOWN becomes a 200 with the next page linked', async () => {
    const { processor } = withTagLists(found(['b', 'a', 'c']));
    await processor.step(listed(404, '/v2/team/app/tags/list?n=2'), never);
    const r = await processor.step(body('{"errors":[{"code":"NAME_UNKNOWN"}]}'), never);
    const reply = (r as { reply: ProcessingResponse__Output }).reply;
    expect(setHeaders({ response_headers: reply.response_body } as never)).toEqual({
      ':status': '200',
      'content-type': 'application/json',
      link: '</v2/team/app/tags/list?n=2&last=b>; rel="next"',
    });
    expect(reply.response_body?.response?.body_mutation?.body?.toString()).toBe(
      '{"name":"team/app","tags":["a","b"]}\n',
    );
  });

  test('nothing new, a body cut at the buffer limit, a sibling timeout: the local answer passes as it is', async () => {
    for (const [answer, bodyMsg, outcome] of [
      [found(['v1']), body('{"name":"team/app","tags":["v1"]}'), 'pass'],
      [found(['v2']), body('{"name":"team/app","tags":["v1"', false), 'pass'],
      ['hang', body('{"name":"team/app","tags":["v1"]}'), 'timeout'],
    ] as const) {
      const { processor, decisions, clock } = withTagLists(answer);
      await processor.step(listed(200, '/v2/team/app/tags/list'), never);
      const pending = processor.step(bodyMsg, never);
      clock.advance(150);
      await flushPromises();
      const r = await pending;
      expect('reply' in r && r.reply.response_body).toEqual({});
      expect(decisions).toEqual([expect.objectContaining({ outcome, kind: 'tag_list' })]);
    }
  });

  test('Envoy cancelling the stream while the siblings are listed is no timeout: recorded as cancelled', async () => {
    const { processor, decisions } = withTagLists('hang');
    await processor.step(listed(200, '/v2/team/app/tags/list'), never);
    const cancel = new AbortController();
    const pending = processor.step(body('{"name":"team/app","tags":["v1"]}'), cancel.signal);
    cancel.abort();
    await pending;
    expect(decisions).toEqual([
      expect.objectContaining({ outcome: 'pass', reason: 'cancelled', kind: 'tag_list' }),
    ]);
  });

  test('a 404 no sibling can fill, another status, a HEAD or a redirected request are not merged', async () => {
    const { processor, decisions } = withTagLists(found([]));
    await processor.step(listed(404, '/v2/team/app/tags/list'), never);
    const r = await processor.step(body('{"errors":[{"code":"NAME_UNKNOWN"}]}'), never);
    expect('reply' in r && r.reply.response_body).toEqual({});
    expect(decisions[0]).toMatchObject({ outcome: 'pass', reason: 'complete' });
    for (const msg of [
      listed(401, '/v2/team/app/tags/list'),
      asOutput(
        responseHeadersMessage(200, {
          attributes: { 'request.path': '/v2/team/app/tags/list', 'request.method': 'HEAD' },
        }),
      ),
      asOutput(
        responseHeadersMessage(404, {
          attributes: {
            'request.path': '/v2/team/app/tags/list',
            'request.method': 'GET',
            [ATTRIBUTE.forwardedBy]: 'a',
          },
        }),
      ),
    ]) {
      const other = withTagLists(found(['v2']));
      const reply = await other.processor.step(msg, never);
      expect(reply).toMatchObject({ last: true });
      expect('reply' in reply && reply.reply.mode_override).toBeUndefined();
      expect(other.asked).toEqual([]);
    }
  });

  test("a's tags reach the client only when a's registry would list them to it, asked with its own credential", async () => {
    const secret = 'Basic bGlzdGVyOnMzY3IzdA==';
    const attributes = {
      'request.path': '/v2/team/app/tags/list',
      'request.method': 'GET',
      [ATTRIBUTE.tagListAuthorization]: secret,
    };
    for (const [access, tags] of [
      ['allowed', ['v1', 'v2']],
      ['denied', ['v1']],
      ['unknown', ['v1']],
    ] as const) {
      const { processor, decisions, credentials } = withTagLists(found(['v2']), access);
      await processor.step(asOutput(responseHeadersMessage(200, { attributes })), never);
      const r = await processor.step(body('{"name":"team/app","tags":["v1"]}'), never);
      const replaced =
        'reply' in r ? r.reply.response_body?.response?.body_mutation?.body?.toString() : undefined;
      expect(replaced === undefined ? ['v1'] : (JSON.parse(replaced) as { tags: string[] }).tags).toEqual(
        tags,
      );
      expect(credentials).toEqual([secret]);
      // The credential is in no record (logs, metrics, spans take theirs from it).
      expect(JSON.stringify(decisions)).not.toContain('bGlzdGVy');
      if (access !== 'allowed')
        expect(decisions[0]).toMatchObject({
          outcome: 'pass',
          reason: access === 'denied' ? 'a:client_not_allowed' : 'a:access_unknown',
        });
    }
  });

  test("without the credential attribute the client is anonymous, and the bearer of another request's is never kept", async () => {
    const { processor, credentials } = withTagLists(found(['v2']), 'denied');
    await processor.step(
      asOutput(
        responseHeadersMessage(200, {
          attributes: {
            'request.path': '/v2/team/app/tags/list',
            'request.method': 'GET',
            // Another attribute's credential (the push-intent bearer) is never taken for it.
            [ATTRIBUTE.bearer]: 'Bearer aaa.bbb.ccc',
            [ATTRIBUTE.tagListAuthorization]: '',
          },
        }),
      ),
      never,
    );
    await processor.step(body('{"name":"team/app","tags":["v1"]}'), never);
    expect(credentials).toEqual([undefined]);
  });

  test('a shed listing leaves the local list as it is, at once', async () => {
    const { processor, decisions } = withTagLists({ status: 'shed' });
    await processor.step(listed(200, '/v2/team/app/tags/list'), never);
    const r = await processor.step(body('{"name":"team/app","tags":["v1"]}'), never);
    expect('reply' in r && r.reply.response_body).toEqual({});
    expect(decisions).toEqual([
      expect.objectContaining({ outcome: 'pass', reason: 'shed', kind: 'tag_list' }),
    ]);
  });
});
