/**
 * One tag list's union: the local page, the siblings' tags after its `last` (sibling-tags.ts),
 * and only the tags of siblings that would list the repository to this client (list-access.ts).
 * A sibling's tags never reach a client that the sibling itself would not list them to; a sibling
 * whose tags change nothing is not asked, so a list with nothing to merge costs no check.
 */
import type { SiblingListAccess, ListAccess } from './list-access';
import {
  changes,
  combineWindows,
  unionPage,
  type LocalPage,
  type TagListRequest,
  type UnionPage,
} from './page';
import type { SiblingTags, SiblingTagsListing } from './sibling-tags';

export interface TagListAsk {
  readonly req: TagListRequest;
  readonly local: LocalPage;
  /** The local registry answered 404 `NAME_UNKNOWN`: an empty union leaves it as it is. */
  readonly notFound: boolean;
  /** The client's `Authorization`, as the siblings are asked with it; absent: anonymous. */
  readonly authorization?: string;
  /** Who asks, for the fairness of the admission window. */
  readonly client?: string;
}

export type UnionOutcome =
  | { readonly result: 'merged'; readonly page: UnionPage; readonly failed: readonly string[] }
  /** The union says nothing the local answer did not (`failed`: siblings listed or asked in vain). */
  | { readonly result: 'complete'; readonly failed: readonly string[] }
  | { readonly result: 'timeout' }
  /** Not listed: the admission window is full (sibling-tags.ts). */
  | { readonly result: 'shed' };

export class TagListUnion {
  constructor(
    private readonly siblingTags: Pick<SiblingTags, 'tags' | 'cached'>,
    private readonly access: Pick<SiblingListAccess, 'check' | 'cached'>,
  ) {}

  /** The outcome when every answer it needs is cached (no storage, no waiting), else undefined. */
  cached(ask: TagListAsk): UnionOutcome | undefined {
    const listing = this.siblingTags.cached(ask.req.repository, ask.req.last);
    if (!listing) return undefined;
    const verdicts = new Map<string, ListAccess>();
    for (const region of toAsk(ask, listing)) {
      const v = this.access.cached(region, ask.req.repository, ask.authorization);
      if (v === undefined) return undefined;
      verdicts.set(region, v);
    }
    return decide(ask, listing, verdicts);
  }

  /** Resolves (never rejects); a wait cut by `signal` answers `timeout`. */
  async union(ask: TagListAsk, signal: AbortSignal): Promise<UnionOutcome> {
    const { repository, last } = ask.req;
    const listing = await this.siblingTags.tags(repository, last, signal, ask.client, ask.authorization);
    if (listing.status === 'timeout') return { result: 'timeout' };
    if (listing.status === 'shed') return { result: 'shed' };
    const regions = toAsk(ask, listing);
    const answers = await Promise.all(
      regions.map((r) => this.access.check(r, repository, ask.authorization, signal, ask.client)),
    );
    if (signal.aborted) return { result: 'timeout' };
    return decide(ask, listing, new Map(regions.map((r, i) => [r, answers[i] as ListAccess])));
  }
}

/**
 * The siblings whose answer matters: those whose tags would change the page. When the union of
 * every sibling's tags changes nothing, no sibling does (leaving one out only removes tags).
 */
function toAsk(ask: TagListAsk, listing: SiblingTagsListing): string[] {
  const all = unionPage(ask.local, combineWindows(listing.siblings.map((s) => s.window)), ask.req);
  if (!changes(ask.local, all)) return [];
  const local = new Set(ask.local.tags);
  return listing.siblings
    .filter((s) => s.window.through !== undefined || s.window.tags.some((t) => !local.has(t)))
    .map((s) => s.region);
}

function decide(
  ask: TagListAsk,
  listing: SiblingTagsListing,
  verdicts: ReadonlyMap<string, ListAccess>,
): UnionOutcome {
  const refused: string[] = [];
  const allowed = listing.siblings.filter((s) => {
    const v = verdicts.get(s.region);
    if (v === undefined || v === 'allowed') return true;
    refused.push(`${s.region}:${v === 'denied' ? 'client_not_allowed' : 'access_unknown'}`);
    return false;
  });
  const failed = [...listing.failed, ...refused];
  const page = unionPage(ask.local, combineWindows(allowed.map((s) => s.window)), ask.req);
  if (!changes(ask.local, page) || (ask.notFound && page.tags.length === 0))
    return { result: 'complete', failed };
  return { result: 'merged', page, failed };
}
