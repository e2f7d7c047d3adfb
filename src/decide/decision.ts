/**
 * The decision rules, as pure functions of plain values. The ext_proc stream (src/extproc/)
 * feeds them what Envoy sent and turns their answers into exactly one reply per message.
 */
import type { LocateResult } from '../locate/locator';
import type { Classification, PullKind, PullPolicy, PullRequestInfo, PullTarget } from '../oci/pull';
import { classifyPull, DEFAULT_PULL_POLICY } from '../oci/pull';
import { parseDigest } from '../oci/reference';
import type { FreshnessResult } from '../tag-freshness/verdict';

/** Stable outcome labels (geosync.v1.Outcome without its prefix); also metric and log values. */
export type Outcome =
  'ineligible' | 'pass' | 'proxied' | 'not_found' | 'timeout' | 'error' | 'fresher' | 'merged';

/** What a stream was about: a pull, or a tag list (src/tag-list/). */
export type RecordKind = PullKind | 'tag_list';

export interface DecisionRecord {
  readonly outcome: Outcome;
  /** Absent for ineligible requests. */
  readonly kind?: RecordKind;
  /** Why a request was ineligible, the error code, or `shed` (a 404 passed without a lookup, under load). */
  readonly reason?: string;
  /** The region the response was redirected to (proxied, fresher). */
  readonly sourceRegion?: string;
  /**
   * LastModified of the content in the source region (proxied: dates the staleness window;
   * fresher: when the sibling's tag moved, so how stale the local tag was).
   */
  readonly sourceLastModified?: Date;
  readonly lookupMs?: number;
  /** `freshness`: the record of a tag-freshness check of a local 200, not of a 404's lookup. */
  readonly check?: 'freshness';
}

/** What to do with the upstream response headers. */
export type ResponsePlan =
  | { readonly action: 'continue'; readonly record: DecisionRecord }
  | { readonly action: 'lookup'; readonly classification: Extract<Classification, { eligible: true }> }
  | {
      readonly action: 'freshness';
      readonly target: Extract<PullTarget, { kind: 'manifest_by_tag' }>;
      /** The digest the local registry serves for the tag (its Docker-Content-Digest). */
      readonly localDigest: string;
    };

/** The status geosync rescues: the local registry does not have the content. */
export const NOT_FOUND = '404';
/** With tag freshness on, a 200 of a manifest by tag is checked against the siblings' tags. */
export const OK = '200';

export function classify(
  req: PullRequestInfo | undefined,
  policy: PullPolicy = DEFAULT_PULL_POLICY,
): Classification {
  return req ? classifyPull(req, policy) : { eligible: false, reason: 'missing_request' };
}

export interface ResponseFacts {
  readonly status: string | undefined;
  /** The response's Docker-Content-Digest, when it has one. */
  readonly contentDigest?: string | undefined;
  /** Whether a local 200 of this tag is checked (tag-freshness/bound.ts); absent: none is. */
  readonly checksTag?: (tag: string) => boolean;
}

export function planResponse(classification: Classification, facts: ResponseFacts): ResponsePlan {
  if (!classification.eligible) {
    return { action: 'continue', record: { outcome: 'ineligible', reason: classification.reason } };
  }
  const target = classification.target;
  if (facts.status === NOT_FOUND) return { action: 'lookup', classification };
  if (facts.status === OK && target.kind === 'manifest_by_tag' && facts.checksTag?.(target.tag)) {
    // Without the registry's own digest there is nothing to compare: the 200 passes. parseDigest
    // accepts only the canonical form, so the header's text is the digest as storage writes it.
    if (facts.contentDigest !== undefined && parseDigest(facts.contentDigest)) {
      return { action: 'freshness', target, localDigest: facts.contentDigest };
    }
  }
  return { action: 'continue', record: { outcome: 'pass', kind: target.kind } };
}

/**
 * The redirect target: the sibling's base URL plus the original request target (path and
 * query), so Envoy's internal redirect asks the sibling for exactly what the client asked.
 * Envoy requires an absolute Location for internal redirects (router `convertRequestHeadersForInternalRedirect`).
 */
export function redirectLocation(regionUrl: string, requestPath: string): string {
  return regionUrl.replace(/\/+$/, '') + requestPath.replace(NOT_VISIBLE_ASCII, percentEncoded);
}

/**
 * The request's path reaches geosync as UTF-8 text, and a header value must be visible ASCII
 * (RFC 9110 §5.5; Envoy refuses a mutation with CR, LF or NUL). A query may hold anything else,
 * so it is percent-encoded as its UTF-8 bytes (RFC 3986 §2.1): the Location means the same
 * resource, and no character can turn into a control byte when the header is written as bytes
 * (U+010A would otherwise become LF). A pull's own name and reference are ASCII by grammar.
 */
const NOT_VISIBLE_ASCII = /[^\x21-\x7e]/gu;

function percentEncoded(char: string): string {
  let out = '';
  for (const byte of Buffer.from(char, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

export function recordFor(kind: PullKind, result: LocateResult, lookupMs: number): DecisionRecord {
  switch (result.outcome) {
    case 'found':
      return {
        outcome: 'proxied',
        kind,
        sourceRegion: result.region,
        ...(result.lastModified ? { sourceLastModified: result.lastModified } : {}),
        lookupMs,
      };
    case 'not_found':
      return { outcome: 'not_found', kind, lookupMs };
    case 'timeout':
      return { outcome: 'timeout', kind, lookupMs };
    case 'shed':
      // Answered at once without a lookup, under load: the 404 passes, as for any other pass.
      return { outcome: 'pass', kind, reason: 'shed', lookupMs };
    case 'error':
      return { outcome: 'error', kind, reason: result.code, lookupMs };
  }
}

/** The record of a tag-freshness check: only a sibling that is provably ahead changes the answer. */
export function freshnessRecord(result: FreshnessResult, lookupMs: number): DecisionRecord {
  const base = { kind: 'manifest_by_tag' as const, lookupMs, check: 'freshness' as const };
  switch (result.verdict) {
    case 'newer':
      return {
        ...base,
        outcome: 'fresher',
        sourceRegion: result.region,
        ...(result.modified ? { sourceLastModified: result.modified } : {}),
      };
    case 'fresh':
      return { ...base, outcome: 'pass', reason: 'fresh' };
    case 'conflict':
      return { ...base, outcome: 'pass', reason: 'conflict' };
    case 'timeout':
      return { ...base, outcome: 'timeout' };
    case 'error':
      return { ...base, outcome: 'error', reason: result.code };
  }
}

/** How a tag list's union went (src/tag-list/). */
export type TagListOutcome =
  | { readonly result: 'merged' }
  /** The union says nothing the local answer did not. */
  | { readonly result: 'complete' }
  /** The local answer is not one to merge into (a body over Envoy's buffer, another error). */
  | { readonly result: 'passed'; readonly reason: string }
  | { readonly result: 'timeout' };

/** The record of a tag list: `failed` names the siblings that could not be listed. */
export function tagListRecord(
  outcome: TagListOutcome,
  lookupMs: number,
  failed: readonly string[] = [],
): DecisionRecord {
  const base = {
    kind: 'tag_list' as const,
    lookupMs,
    ...(failed.length > 0 ? { reason: failed.join(',') } : {}),
  };
  switch (outcome.result) {
    case 'merged':
      return { ...base, outcome: 'merged' };
    case 'complete':
      return { ...base, outcome: 'pass', reason: failed.length > 0 ? base.reason : 'complete' };
    case 'passed':
      return { ...base, outcome: 'pass', reason: outcome.reason };
    case 'timeout':
      return { ...base, outcome: 'timeout' };
  }
}
