/**
 * One page of `GET /v2/<name>/tags/list` as the union of the local registry's page and the
 * siblings' tags: pure functions of plain values. Pagination follows the distribution spec
 * (https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-tags): tags in
 * lexical order, at most `n` of them, only those after `last`, and a `Link: <…>; rel="next"`
 * header while more remain.
 */
import { isRepositoryName, isTag } from '../oci/reference';
import { byCodeUnit } from '../storage/probe';
import type { SiblingWindow } from './window';

export interface TagListRequest {
  readonly repository: string;
  /** The client's `n`; absent: every tag. */
  readonly n?: number;
  /** The client's `last`: only tags after it. */
  readonly last?: string;
}

const TAG_LIST_PATH = /^\/v2\/(.+)\/tags\/list$/;

/** The request a `tags/list` path (with its query) asks, or undefined for anything else or malformed. */
export function parseTagListRequest(pathAndQuery: string): TagListRequest | undefined {
  const q = pathAndQuery.indexOf('?');
  const path = q < 0 ? pathAndQuery : pathAndQuery.slice(0, q);
  const repository = TAG_LIST_PATH.exec(path)?.[1];
  if (repository === undefined || !isRepositoryName(repository)) return undefined;
  const query = new URLSearchParams(q < 0 ? '' : pathAndQuery.slice(q + 1));
  const n = query.get('n');
  const last = query.get('last');
  // distribution answers a bad `n` with 400 itself; no union is made of it.
  if (n !== null && !/^\d{1,9}$/.test(n)) return undefined;
  return {
    repository,
    ...(n !== null ? { n: Number(n) } : {}),
    ...(last !== null && last !== '' ? { last } : {}),
  };
}

/** What the local registry answered for this request. */
export interface LocalPage {
  readonly tags: readonly string[];
  /** The local answer had a `Link` header: it holds more tags after its last. */
  readonly more: boolean;
}

export interface UnionPage {
  readonly tags: readonly string[];
  /** The `last` of the next page, when there is one. */
  readonly next?: string;
}

/**
 * The union page. A local page that says "more" ends at its last tag: local tags beyond it are
 * unknown here, so a sibling's tag after it waits for the next page (whose local answer then covers
 * it). Likewise siblings whose tags are known only up to `through` (a sibling with more tags than
 * one listing holds, window.ts): the page ends there, local tags above it included, and says
 * "more". Within that range the union is exact, and `n` is never exceeded; so walking the pages
 * yields every tag exactly once.
 */
export function unionPage(
  local: LocalPage,
  siblings: { readonly tags: readonly string[]; readonly through?: string },
  req: TagListRequest,
): UnionPage {
  const after = (t: string) => req.last === undefined || t > req.last;
  const localTags = local.tags.filter(after);
  const localCeiling = local.more
    ? localTags.reduce<string | undefined>((m, t) => (m === undefined || t > m ? t : m), undefined)
    : undefined;
  if (local.more && localCeiling === undefined) return { tags: local.tags };
  // A ceiling at or below `last` would make no progress; window.ts never gives one.
  if (siblings.through !== undefined && !after(siblings.through)) return { tags: local.tags };
  const ceiling =
    localCeiling === undefined || (siblings.through !== undefined && siblings.through < localCeiling)
      ? (siblings.through ?? localCeiling)
      : localCeiling;
  const within = (t: string) => ceiling === undefined || t <= ceiling;
  const fromSiblings = siblings.tags.filter((t) => isTag(t) && after(t) && within(t));
  const merged = [...new Set([...localTags.filter(within), ...fromSiblings])].sort(byCodeUnit);
  const tags = req.n === undefined ? merged : merged.slice(0, req.n);
  const more = local.more || siblings.through !== undefined || merged.length > tags.length;
  const next = more ? tags[tags.length - 1] : undefined;
  return next === undefined ? { tags } : { tags, next };
}

/** The tags of several siblings' windows, known up to the lowest of their ceilings. */
export function combineWindows(windows: readonly SiblingWindow[]): {
  tags: readonly string[];
  through?: string;
} {
  const tags = windows.flatMap((w) => w.tags);
  let through: string | undefined;
  for (const w of windows)
    if (w.through !== undefined && (through === undefined || w.through < through)) through = w.through;
  return through === undefined ? { tags } : { tags, through };
}

/** Whether the union page says anything the local page did not. */
export function changes(local: LocalPage, page: UnionPage): boolean {
  return (
    local.more !== (page.next !== undefined) ||
    local.tags.length !== page.tags.length ||
    local.tags.some((t, i) => t !== page.tags[i])
  );
}

/** The `Link` header of the next page (RFC 8288), relative like distribution's own. */
export function nextLink(req: TagListRequest, next: string): string {
  const n = req.n === undefined ? '' : `n=${req.n}&`;
  return `</v2/${req.repository}/tags/list?${n}last=${encodeURIComponent(next)}>; rel="next"`;
}

/** The response body, shaped like distribution's (registry/handlers/tags.go: one JSON line). */
export function tagListBody(repository: string, tags: readonly string[]): string {
  return `${JSON.stringify({ name: repository, tags })}\n`;
}

/**
 * The local registry's answer, read from its body: a 200's tags, or a 404 that says the repository
 * is unknown here (`NAME_UNKNOWN`). Anything else (another error, a body that does not parse, a
 * tag list whose name differs) is undefined: the local answer then passes unchanged.
 */
export function readLocalAnswer(
  status: string | undefined,
  body: string,
  repository: string,
): { readonly tags: readonly string[] } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  if (status === '404') {
    const errors = (parsed as { errors?: unknown }).errors;
    const unknown =
      Array.isArray(errors) && errors.some((e) => (e as { code?: unknown } | null)?.code === 'NAME_UNKNOWN');
    return unknown ? { tags: [] } : undefined;
  }
  if (status !== '200') return undefined;
  const { name, tags } = parsed as { name?: unknown; tags?: unknown };
  if (name !== repository) return undefined;
  // distribution 2.8 writes `"tags": null` for a repository with none.
  if (tags === null || tags === undefined) return { tags: [] };
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) return undefined;
  return { tags };
}
