/**
 * The 404 rescue: a pull the local registry answered 404 is looked up in the siblings' storage
 * (src/locate/), and a holder found turns the 404 into a 307 to it; every other answer, and every
 * failure, lets the 404 pass (fail open).
 */
import { recordFor } from '../decide/decision';
import type { LocateResult } from '../locate/locator';
import type { PullTarget } from '../oci/pull';
import { lookup, type Plan, type StreamScope } from './context';

const TIMEOUT: LocateResult = { outcome: 'timeout' };
const CANCELLED: LocateResult = { outcome: 'error', code: 'cancelled' };

export async function rescue(scope: StreamScope, target: PullTarget): Promise<Plan> {
  const { ctx, client, authorization } = scope;
  const {
    value: result,
    lookupMs,
    cancelled,
  } = await lookup(scope, {
    // Most lookups of a herd are answered from the cache.
    known: ctx.locator.cached?.(target, authorization),
    work: (signal) =>
      ctx.locator.locate(target, signal, client, authorization).catch((err: unknown): LocateResult => ({
        outcome: 'error',
        code: `locator_threw:${(err as Error)?.name ?? 'unknown'}`,
      })),
    interrupted: (timedOut) => (timedOut ? TIMEOUT : CANCELLED),
    deadlineMs: ctx.locateTimeoutMs ?? ctx.lookupTimeoutMs,
  });
  if (cancelled) return { record: { outcome: 'pass', kind: target.kind, lookupMs }, decided: false };
  const url = result.outcome === 'found' ? ctx.regionUrls.get(result.region) : undefined;
  // A region this instance has no URL for is a wiring bug: the 404 passes.
  const found = result.outcome !== 'found' || url !== undefined;
  return {
    record: recordFor(target.kind, found ? result : { outcome: 'error', code: 'no_region_url' }, lookupMs),
    decided: true,
    ...(url !== undefined ? { redirectTo: url } : {}),
  };
}
