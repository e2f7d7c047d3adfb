/**
 * Whether a sibling's registry would list a repository's tags to this client: geosync asks it,
 * with the client's own `Authorization`, `GET <sibling>/v2/<name>/tags/list?n=0`. A sibling's
 * tags reach a client only on `allowed` (a 200): a 401 or 403 (and a 404: the sibling's registry
 * does not know the repository) is `denied`; anything else, no answer in time, or a check that
 * was not started is `unknown`, and leaves that sibling's tags out as `denied` does.
 *
 * - `n=0` asks for no tag: distribution 3 then answers from the authorization alone, without
 *   reading its storage (registry/handlers/tags.go); distribution 2.8 ignores `n` and lists. The
 *   check carries `x-geosync-forwarded-by`, so the sibling's Envoy sends it to no geosync.
 * - Answers are cached per (sibling, repository, credential) for `ttlMs`, an `unknown` for at most
 *   FAILURE_TTL_MS; concurrent checks of one key share one request, which runs to its own timeout
 *   whatever its waiters do. The cache key holds an HMAC of the credential under a key this
 *   process drew at random, never the credential; the credential itself lives only in the
 *   request, and nothing here logs it.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { untilAborted } from '../abort/until-aborted';
import type { Clock } from '../clock/clock';
import { setDeadline } from '../clock/deadline';
import { Coalescer } from '../util/coalesce';
import { FAILURE_TTL_MS } from '../util/failure-ttl';
import { TtlLruCache } from '../util/ttl-lru-cache';
import type { ListingAdmission } from './sibling-tags';

export type ListAccess = 'allowed' | 'denied' | 'unknown';

export interface ListAccessOptions {
  /** Base URL of every sibling by region name (`regions[].url`). */
  readonly siblingUrls: ReadonlyMap<string, string>;
  /** Headers every check carries besides the client's credential (the forwarded-by marker). */
  readonly headers: Readonly<Record<string, string>>;
  readonly clock: Clock;
  /** How long an `allowed` or `denied` is reused. */
  readonly ttlMs: number;
  /** How long one check may take, whatever its waiters' deadlines. */
  readonly timeoutMs: number;
  /** The same window as the listings': a flood of distinct credentials is shed like one of names. */
  readonly admission?: ListingAdmission;
  readonly maxEntries?: number;
  /** Node's fetch (undici) unless a test passes another. */
  readonly fetch?: typeof fetch;
}

export class SiblingListAccess {
  private readonly cache: TtlLruCache<ListAccess>;
  private readonly inflight = new Coalescer<ListAccess>();
  /** Keys the HMAC of credentials: a cache key tells nothing without it, and it never leaves this process. */
  private readonly secret = randomBytes(32);

  constructor(private readonly opts: ListAccessOptions) {
    this.cache = TtlLruCache.byCount<ListAccess>(opts.maxEntries ?? 10_000, opts.clock);
  }

  /** The answer reused for this client, if one is. */
  cached(region: string, repository: string, authorization: string | undefined): ListAccess | undefined {
    return this.cache.get(this.keyOf(region, repository, authorization));
  }

  /** Resolves (never rejects) with the sibling's answer, or `unknown` as soon as `signal` aborts. */
  check(
    region: string,
    repository: string,
    authorization: string | undefined,
    signal: AbortSignal,
    client?: string,
  ): Promise<ListAccess> {
    const key = this.keyOf(region, repository, authorization);
    const cached = this.cache.get(key);
    if (cached) return Promise.resolve(cached);
    const { promise } = this.inflight.run(key, async () => {
      const admission = this.opts.admission;
      if (admission && !admission.tryStart(client)) return 'unknown';
      const answer = await this.ask(region, repository, authorization).catch((): ListAccess => 'unknown');
      admission?.release(client);
      this.cache.set(
        key,
        answer,
        answer === 'unknown' ? Math.min(this.opts.ttlMs, FAILURE_TTL_MS) : this.opts.ttlMs,
      );
      return answer;
    });
    return untilAborted(promise, signal, (): ListAccess => 'unknown');
  }

  private async ask(
    region: string,
    repository: string,
    authorization: string | undefined,
  ): Promise<ListAccess> {
    const base = this.opts.siblingUrls.get(region);
    if (base === undefined) return 'unknown';
    const controller = new AbortController();
    const stop = setDeadline(this.opts.clock, () => controller.abort(), this.opts.timeoutMs);
    try {
      const res = await (this.opts.fetch ?? fetch)(
        `${base.replace(/\/+$/, '')}/v2/${repository}/tags/list?n=0`,
        {
          headers: { ...this.opts.headers, ...(authorization ? { authorization } : {}) },
          // A redirect is no answer to follow with the client's credential.
          redirect: 'manual',
          signal: controller.signal,
        },
      );
      await res.body?.cancel().catch(() => undefined);
      if (res.status === 200) return 'allowed';
      return res.status === 401 || res.status === 403 || res.status === 404 ? 'denied' : 'unknown';
    } finally {
      stop();
    }
  }

  private keyOf(region: string, repository: string, authorization: string | undefined): string {
    // Anonymous ('-') and every credential have keys of their own.
    const credential = createHmac('sha256', this.secret)
      .update(authorization ?? '')
      .digest('base64url');
    return `${region}\n${repository}\n${authorization ? credential : '-'}`;
  }
}
