/**
 * ObjectProbe over a region's registry API (`lookup: registry`): the keys of distribution's
 * storage layout that the locator, tag freshness and the tag-list union ask (api-keys.ts) become
 * the OCI distribution API's own requests, so every promise of storage lookups (one request per
 * key per region under a herd, the cache, the deadline, preference and hedging, breakers, fail
 * open) holds for them unchanged.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md
 *
 * - A blob: `HEAD /v2/<name>/blobs/<digest>`; a 3xx (a redirect to object storage) is "found",
 *   never followed.
 * - A manifest: `HEAD /v2/<name>/manifests/<digest>`; a tag: `HEAD …/manifests/<tag>`, whose
 *   `Docker-Content-Digest` is the tag's digest (a GET, hashed, when the registry leaves it out).
 * - A manifest's bytes (src/locate/manifest-contents.ts): `GET …/manifests/<digest>`.
 * - Tags: `GET /v2/<name>/tags/list?n=…&last=…`, the `Link: <…>; rel="next"` header telling
 *   that more follow.
 * - 401 and 403 are `denied` (not for these credentials: the 404 passes, and the breaker never
 *   counts it), 404 `not_found`, 429 `throttled`, 5xx and broken connections `unavailable`.
 * A registry gives no dates: a found answer has `lastModified` only when the registry sends
 * `Last-Modified`.
 */
import { createHash } from 'node:crypto';
import { systemClock, type Clock } from '../clock/clock';
import type { RegistryLookup } from '../config/types';
import { MAX_MANIFEST_BYTES } from '../oci/manifest';
import { formatDigest, type Digest } from '../oci/reference';
import { boundedRequest, UNAVAILABLE_CODES } from '../storage/bounded-request';
import {
  byFolder,
  probeError,
  type ListOptions,
  type ListResult,
  type ObjectProbe,
  type ProbeMiss,
  type ProbeOptions,
  type ProbeResult,
  type ReadOptions,
  type ReadResult,
} from '../storage/probe';
import { questionFor, type ApiQuestion } from './api-keys';
import { RegistryClient, type RegistryRequest, type RegistryResponse } from './client';

/**
 * Every manifest format a client may pull, so the registry answers with the one it stores (without
 * an Accept, distribution 2.x may answer a Docker manifest list with a single platform's manifest).
 */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export class RegistryProbe implements ObjectProbe {
  /**
   * Every target is one API request (its repository's key; the data keys are left out,
   * ObjectProbe.viaRegistryApi), so there is nothing to ask in turn; and a tag's lookup reads its
   * digest with the same HEAD (region.ts readKey), which the manifest's contents read then uses.
   */
  readonly keysInTurn = false;
  readonly viaRegistryApi = true;
  private readonly client: RegistryClient;

  constructor(
    readonly region: string,
    baseUrl: string,
    private readonly lookup: RegistryLookup,
    deps: { clock?: Clock; client?: RegistryClient; headers?: Readonly<Record<string, string>> } = {},
  ) {
    this.client =
      deps.client ??
      new RegistryClient(baseUrl, lookup, {
        clock: deps.clock ?? systemClock,
        ...(deps.headers ? { headers: deps.headers } : {}),
      });
  }

  async head(key: string, opts: ProbeOptions): Promise<ProbeResult> {
    const q = questionFor(key);
    switch (q.kind) {
      case 'base':
        return this.base(opts);
      case 'blob':
      case 'manifest':
      case 'tag': {
        const r = await this.ask(requestFor(q, 'HEAD', opts), opts, q.kind === 'blob');
        return r.status === 'answered' ? found(r.res) : r;
      }
      case 'tags':
      case 'unanswerable':
        return probeError('internal', q.kind === 'tags' ? 'a tags folder is listed, not asked' : q.why);
    }
  }

  async read(key: string, opts: ReadOptions): Promise<ReadResult> {
    const q = questionFor(key);
    if (q.kind !== 'tag') {
      return probeError(
        'internal',
        q.kind === 'unanswerable' ? q.why : `only a tag's link is read, not ${key}`,
      );
    }
    const head = await this.ask(requestFor(q, 'HEAD', opts), opts, false);
    if (head.status !== 'answered') return head;
    const digest = head.res.headers['docker-content-digest']?.trim();
    if (digest) return { ...found(head.res), text: digest };
    // No digest header (the spec says SHOULD): the manifest's own bytes name it.
    const get = await this.ask(
      { ...requestFor(q, 'GET', opts), maxBytes: MAX_MANIFEST_BYTES + 1 },
      opts,
      false,
    );
    if (get.status !== 'answered') return get;
    const body = get.res.body;
    if (body.length > MAX_MANIFEST_BYTES) return probeError('internal', 'manifest larger than 4 MiB');
    return { ...found(get.res), text: `sha256:${createHash('sha256').update(body).digest('hex')}` };
  }

  /** The bytes of a manifest of `repository` (src/locate/manifest-contents.ts). */
  async readManifest(repository: string, digest: Digest, opts: ReadOptions): Promise<ReadResult> {
    const r = await this.ask(
      {
        method: 'GET',
        path: `${repository}/manifests/${formatDigest(digest)}`,
        repository,
        accept: MANIFEST_ACCEPT,
        maxBytes: opts.maxBytes ?? MAX_MANIFEST_BYTES,
        signal: opts.signal,
        ...authorizationOf(opts),
      },
      opts,
      false,
    );
    if (r.status !== 'answered') return r;
    return { ...found(r.res), text: r.res.body.toString('utf8') };
  }

  async list(prefix: string, opts: ListOptions): Promise<ListResult> {
    const q = questionFor(prefix);
    if (q.kind !== 'tags')
      return probeError('internal', `only a repository's tags are listed, not ${prefix}`);
    const query = new URLSearchParams({ n: String(opts.max) });
    // ListOptions.startAfter: a tag, or `<folder>/~` to go on after a folder; the API's `last`.
    if (opts.startAfter !== undefined) query.set('last', opts.startAfter.replace(/\/~$/, ''));
    const r = await this.ask(
      {
        method: 'GET',
        path: `${q.repository}/tags/list?${query.toString()}`,
        repository: q.repository,
        accept: 'application/json',
        maxBytes: 4 * 1024 * 1024,
        signal: opts.signal,
        ...authorizationOf(opts),
      },
      opts,
      false,
    );
    if (r.status !== 'answered') return r;
    const res = r.res;
    const tags = tagsOf(res.body);
    if (!tags) return probeError('internal', 'tags/list answered no tag list');
    // The spec's `Link: <…>; rel="next"`; a registry that sends none (go-containerregistry's) but
    // filled the page may have more: asking once more costs one request that answers empty.
    const more = /<[^>]*>\s*;\s*rel="?next"?/i.test(res.headers.link ?? '') || tags.length >= opts.max;
    const names = tags
      .filter((t) => opts.startAfter === undefined || `${t}/` > opts.startAfter)
      .sort(byFolder);
    return {
      status: 'found',
      names: names.slice(0, opts.max),
      ...(more || names.length > opts.max ? { more: true } : {}),
    };
  }

  async check(): Promise<string | undefined> {
    return undefined;
  }

  close(): Promise<void> {
    return this.client.close();
  }

  /** `GET /v2/`: a registry answers 200 or 401; either way the key asked is not there. */
  private async base(opts: ProbeOptions): Promise<ProbeResult> {
    const r = await this.ask({ method: 'GET', path: '', maxBytes: 0, signal: opts.signal }, opts, false);
    return r.status === 'error' && r.kind !== 'denied' ? r : { status: 'not_found' };
  }

  /** One request, bounded by `requestTimeoutMs` and the caller's signal; the answer a value. */
  private ask(req: RegistryRequest, opts: ProbeOptions, redirectIsFound: boolean): Promise<Asked> {
    opts.onDispatch?.();
    return boundedRequest<Asked>(
      this.lookup.requestTimeoutMs,
      opts.signal,
      async (signal) => classify(await this.client.send({ ...req, signal }), redirectIsFound),
      classifyError,
    );
  }
}

function requestFor(
  q: Extract<ApiQuestion, { kind: 'blob' | 'manifest' | 'tag' }>,
  method: 'HEAD' | 'GET',
  opts: ProbeOptions,
): RegistryRequest {
  const reference = q.kind === 'tag' ? q.tag : formatDigest(q.digest);
  return {
    method,
    path: `${q.repository}/${q.kind === 'blob' ? 'blobs' : 'manifests'}/${reference}`,
    repository: q.repository,
    ...(q.kind === 'blob' ? {} : { accept: MANIFEST_ACCEPT }),
    signal: opts.signal,
    ...authorizationOf(opts),
  };
}

function authorizationOf(opts: ProbeOptions): { authorization?: string } {
  return opts.authorization !== undefined ? { authorization: opts.authorization } : {};
}

/** A request's outcome: the response when it says "here it is", else what it means for the probe. */
type Asked = { readonly status: 'answered'; readonly res: RegistryResponse } | ProbeMiss;

function classify(res: RegistryResponse, redirectIsFound: boolean): Asked {
  const s = res.status;
  if (s >= 200 && s < 300) return { status: 'answered', res };
  if (s >= 300 && s < 400)
    return redirectIsFound ? { status: 'answered', res } : probeError('internal', `answered ${s}`);
  if (s === 404) return { status: 'not_found' };
  if (s === 401 || s === 403) return probeError('denied', `answered ${s}`);
  if (s === 429) return probeError('throttled', 'answered 429');
  if (s === 408) return probeError('timeout', 'answered 408');
  if (s >= 500) return probeError('unavailable', `answered ${s}`);
  return probeError('internal', `answered ${s}`);
}

const TLS_VERIFY_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|^ERR_TLS_|^ERR_SSL_/;

function classifyError(err: unknown): ProbeMiss {
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    name?: string;
    code?: string;
    cause?: { code?: string };
  };
  if (e.name === 'AbortError') return probeError('aborted', 'request aborted');
  const code = e.code ?? e.cause?.code ?? '';
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'ETIMEDOUT')
    return probeError('timeout', code);
  if (UNAVAILABLE_CODES.has(code) || code.startsWith('UND_ERR_')) return probeError('unavailable', code);
  // A certificate no trusted CA signs (or expired, or for another name) fails every lookup alike:
  // the region is out of reach until `caFile` names its CA. OpenSSL's verify codes
  // (https://docs.openssl.org/3.0/man1/openssl-verification-options/#diagnostics) and Node's
  // ERR_TLS_* (https://nodejs.org/api/errors.html#err_tls_cert_altname_invalid).
  if (TLS_VERIFY_CODE.test(code)) return probeError('unavailable', `TLS certificate not trusted: ${code}`);
  // Only the error's kind: a message could quote a URL with a token server's query.
  return probeError('internal', e.name ?? 'error');
}

function found(res: RegistryResponse): { status: 'found'; lastModified?: Date } {
  const lm = res.headers['last-modified'];
  const date = lm ? new Date(lm) : undefined;
  return date && !Number.isNaN(date.getTime())
    ? { status: 'found', lastModified: date }
    : { status: 'found' };
}

function tagsOf(body: Buffer): string[] | undefined {
  try {
    const json = JSON.parse(body.toString('utf8')) as { tags?: unknown };
    if (json.tags === null || json.tags === undefined) return [];
    if (!Array.isArray(json.tags)) return undefined;
    return json.tags.filter((t): t is string => typeof t === 'string');
  } catch {
    return undefined;
  }
}
