/**
 * The tag-list union (src/tag-list/): a GET of a tag list that the local registry answered 200 or
 * 404 has its body merged with the siblings' tags. Every other status (a 401 or 403 above all:
 * authorization is the local registry's) passes as it is, and the matcher does not even send it
 * here.
 */
import { NOT_FOUND, OK, tagListRecord } from '../decide/decision';
import type { PullRequestInfo } from '../oci/pull';
import {
  nextLink,
  parseTagListRequest,
  readLocalAnswer,
  tagListBody,
  type TagListRequest,
} from '../tag-list/page';
import type { UnionOutcome } from '../tag-list/union';
import { lookup, type Plan, type StreamContext, type StreamScope } from './context';

/** A tag list whose body Envoy is asked to send. */
export interface TagListAsked {
  readonly req: TagListRequest;
  /** The local registry's status: 200, or 404. */
  readonly status: string;
  /** The local registry's answer has a `Link` to a next page. */
  readonly more: boolean;
}

/** The tag list to merge, when the request and the local response's status make one. */
export function tagListAsked(
  ctx: StreamContext,
  request: PullRequestInfo | undefined,
  status: string | undefined,
  more: boolean,
): TagListAsked | undefined {
  if (!ctx.tagLists || !request || request.method !== 'GET' || request.redirected) return undefined;
  if (status !== OK && status !== NOT_FOUND) return undefined;
  const req = parseTagListRequest(request.path);
  if (!req || req.n === 0) return undefined;
  return { req, status, more };
}

/**
 * The local tag list's body (undefined: it arrived in part): replaced by the union page when
 * that says more.
 */
export async function mergeTagList(
  scope: StreamScope,
  { req, status, more }: TagListAsked,
  body: string | undefined,
): Promise<Plan> {
  const pass = (reason: string, lookupMs = 0): Plan => ({
    record: tagListRecord({ result: 'passed', reason }, lookupMs),
    decided: true,
  });
  // Over Envoy's buffer limit the body arrives in part: it passes as the registry wrote it.
  if (body === undefined) return pass('too_large');
  const local = readLocalAnswer(status, body, req.repository);
  if (!local) return pass(status === NOT_FOUND ? 'not_name_unknown' : 'unreadable');
  const { ctx, client, tagListAuthorization } = scope;
  const union = ctx.tagLists as NonNullable<StreamContext['tagLists']>;
  const ask = {
    req,
    local: { tags: local.tags, more },
    notFound: status === NOT_FOUND,
    ...(tagListAuthorization ? { authorization: tagListAuthorization } : {}),
    ...(client ? { client } : {}),
  };
  const {
    value: outcome,
    lookupMs,
    cancelled,
  } = await lookup(scope, {
    known: union.cached(ask),
    work: (signal) => union.union(ask, signal),
    interrupted: (): UnionOutcome => ({ result: 'timeout' }),
    // A far sibling's listing takes its round trips: waited for as a pull's lookup is.
    deadlineMs: ctx.locateTimeoutMs ?? ctx.lookupTimeoutMs,
  });
  // Envoy cancelled the stream: the client left, which is no timeout of geosync's.
  if (cancelled) return pass('cancelled', lookupMs);
  switch (outcome.result) {
    case 'timeout':
      return { record: tagListRecord({ result: 'timeout' }, lookupMs), decided: true };
    case 'shed':
      return pass('shed', lookupMs);
    case 'complete':
      return { record: tagListRecord({ result: 'complete' }, lookupMs, outcome.failed), decided: true };
  }
  const { page } = outcome;
  return {
    record: tagListRecord({ result: 'merged' }, lookupMs, outcome.failed),
    decided: true,
    replace: {
      ...(status === NOT_FOUND ? { status: OK } : {}),
      contentType: 'application/json',
      body: tagListBody(req.repository, page.tags),
      link: page.next === undefined ? undefined : nextLink(req, page.next),
    },
  };
}
