import { LookupAdmission } from '../../../src/locate/admission';
import { SiblingListAccess } from '../../../src/tag-list/list-access';
import { FAILURE_TTL_MS } from '../../../src/util/failure-ttl';
import { ManualClock } from '../../support/clock';
import { flush } from '../locate/fake-probe';

const never = new AbortController().signal;
const SECRET = 'Basic bGlzdGVyOnMzY3IzdA==';

/** A sibling registry: answers each check with the status `statusOf` gives, or when released. */
function setup(
  statusOf: (auth: string | undefined) => number | 'hang' | 'manual',
  over: { admission?: LookupAdmission } = {},
) {
  const clock = new ManualClock();
  const asked: { url: string; headers: Record<string, string>; redirect?: string }[] = [];
  const pending: (() => void)[] = [];
  const fakeFetch = (async (url: string, init: RequestInit) => {
    const headers = init.headers as Record<string, string>;
    asked.push({ url, headers, ...(init.redirect ? { redirect: init.redirect } : {}) });
    const status = statusOf(headers.authorization);
    if (status === 'hang' || status === 'manual') {
      await new Promise<void>((resolve, reject) => {
        init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        if (status === 'manual') pending.push(resolve);
      });
      return new Response('{}', { status: 200 });
    }
    return new Response('{}', { status });
  }) as unknown as typeof fetch;
  const access = new SiblingListAccess({
    siblingUrls: new Map([['a', 'http://a.example:5000/']]),
    headers: { 'x-geosync-forwarded-by': 'b' },
    clock,
    ttlMs: 5000,
    timeoutMs: 2000,
    fetch: fakeFetch,
    ...(over.admission ? { admission: over.admission } : {}),
  });
  return { clock, access, asked, release: () => pending.splice(0).forEach((r) => r()) };
}

test("asks the sibling's registry with the client's credential and the forwarded-by marker, n=0, no redirects", async () => {
  const { access, asked } = setup(() => 200);
  expect(await access.check('a', 'team/app', SECRET, never)).toBe('allowed');
  expect(asked).toEqual([
    {
      url: 'http://a.example:5000/v2/team/app/tags/list?n=0',
      headers: { 'x-geosync-forwarded-by': 'b', authorization: SECRET },
      redirect: 'manual',
    },
  ]);
  // Anonymous: no Authorization header at all.
  await access.check('a', 'team/app', undefined, never);
  expect(asked[1]!.headers).toEqual({ 'x-geosync-forwarded-by': 'b' });
});

test.each([
  [200, 'allowed'],
  [401, 'denied'],
  [403, 'denied'],
  [404, 'denied'],
  [500, 'unknown'],
  [429, 'unknown'],
  [307, 'unknown'],
] as const)('a %s is %s', async (status, verdict) => {
  const { access } = setup(() => status);
  expect(await access.check('a', 'team/app', SECRET, never)).toBe(verdict);
});

test('answers are kept per credential for the ttl (an unknown for the failure bound), and one request serves concurrent asks', async () => {
  const { clock, access, asked } = setup((auth) => (auth === SECRET ? 200 : 401));
  const [x, y] = await Promise.all([
    access.check('a', 'team/app', SECRET, never),
    access.check('a', 'team/app', SECRET, never),
  ]);
  expect([x, y]).toEqual(['allowed', 'allowed']);
  expect(await access.check('a', 'team/app', undefined, never)).toBe('denied');
  expect(await access.check('a', 'team/app', 'Basic b3RoZXI6eA==', never)).toBe('denied');
  expect(asked).toHaveLength(3);
  expect(access.cached('a', 'team/app', SECRET)).toBe('allowed');
  expect(access.cached('a', 'team/app', undefined)).toBe('denied');
  expect(access.cached('a', 'other/app', SECRET)).toBeUndefined();
  clock.advance(5000);
  expect(access.cached('a', 'team/app', SECRET)).toBeUndefined();

  const failing = setup(() => 503);
  expect(await failing.access.check('a', 'team/app', SECRET, never)).toBe('unknown');
  failing.clock.advance(FAILURE_TTL_MS);
  expect(failing.access.cached('a', 'team/app', SECRET)).toBeUndefined();
});

test("a waiter's deadline answers unknown at once; the check goes on to its own timeout and is kept", async () => {
  const { access, release } = setup(() => 'manual');
  const waiter = new AbortController();
  const pending = access.check('a', 'team/app', SECRET, waiter.signal);
  waiter.abort();
  expect(await pending).toBe('unknown');
  release();
  await flush();
  expect(access.cached('a', 'team/app', SECRET)).toBe('allowed');

  const hung = setup(() => 'hang');
  const waiting = hung.access.check('a', 'team/app', SECRET, never);
  hung.clock.advance(2000);
  await flush();
  expect(await waiting).toBe('unknown');
});

test('no credential is kept: the cache is keyed by a hash', async () => {
  const { access } = setup(() => 200);
  await access.check('a', 'team/app', SECRET, never);
  // The cache of src/util/shared-answers.ts, where the answers are kept.
  const { cache } = (access as unknown as { answers: { cache: { entries: Map<string, unknown> } } }).answers;
  const keys = [...cache.entries.keys()].join('\n');
  expect(keys).not.toContain('bGlzdGVy');
  expect(keys).not.toContain(SECRET);
});

test('a check beyond the admission window is not made: unknown, and not kept', async () => {
  const clock = new ManualClock();
  const admission = new LookupAdmission({ initial: 4, min: 4, max: 4 }, 150, clock);
  for (let i = 0; i < 4; i++) admission.tryStart();
  const { access, asked } = setup(() => 200, { admission });
  expect(await access.check('a', 'team/app', SECRET, never)).toBe('unknown');
  expect(asked).toEqual([]);
  expect(access.cached('a', 'team/app', SECRET)).toBeUndefined();
});
