/**
 * The decision rules, as pure functions of plain values. The ext_proc stream (src/extproc/)
 * feeds them what Envoy sent and turns their answers into exactly one reply per message.
 */
import type { LocateResult } from '../locate/locator';
import type { Classification, PullKind, PullPolicy, PullRequestInfo } from '../oci/pull';
import { classifyPull, DEFAULT_PULL_POLICY } from '../oci/pull';

/** Stable outcome labels (geosync.v1.Outcome without its prefix); also metric and log values. */
export type Outcome = 'ineligible' | 'pass' | 'proxied' | 'not_found' | 'timeout' | 'error';

export interface DecisionRecord {
  readonly outcome: Outcome;
  /** Absent for ineligible requests. */
  readonly kind?: PullKind;
  /** Why a request was ineligible, the error code, or `shed` (a 404 passed without a lookup, under load). */
  readonly reason?: string;
  /** The region the 404 was redirected to (proxied only). */
  readonly sourceRegion?: string;
  /** LastModified of the content in the source region (proxied only): dates the staleness window. */
  readonly sourceLastModified?: Date;
  readonly lookupMs?: number;
}

/** What to do with the upstream response headers. */
export type ResponsePlan =
  | { readonly action: 'continue'; readonly record: DecisionRecord }
  | { readonly action: 'lookup'; readonly classification: Extract<Classification, { eligible: true }> };

/** The only status geosync acts on: the local registry does not have the content. */
export const NOT_FOUND = '404';

export function classify(
  req: PullRequestInfo | undefined,
  policy: PullPolicy = DEFAULT_PULL_POLICY,
): Classification {
  return req ? classifyPull(req, policy) : { eligible: false, reason: 'missing_request' };
}

export function planResponse(classification: Classification, status: string | undefined): ResponsePlan {
  if (!classification.eligible) {
    return { action: 'continue', record: { outcome: 'ineligible', reason: classification.reason } };
  }
  if (status !== NOT_FOUND) {
    return { action: 'continue', record: { outcome: 'pass', kind: classification.target.kind } };
  }
  return { action: 'lookup', classification };
}

/**
 * The redirect target: the sibling's base URL plus the original request target (path and
 * query), so Envoy's internal redirect asks the sibling for exactly what the client asked.
 * Envoy requires an absolute Location for internal redirects (router `convertRequestHeadersForInternalRedirect`).
 */
export function redirectLocation(regionUrl: string, requestPath: string): string {
  return regionUrl.replace(/\/+$/, '') + requestPath;
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
