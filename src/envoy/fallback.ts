/**
 * `--fallback custom-response`: for Envoy < 1.31, which cannot run ext_proc as an upstream filter.
 * A downstream `envoy.filters.http.custom_response` filter turns a local 404 on a pull route into a
 * redirect to ONE fixed sibling (the first in `preference`), with no lookup and no geosync at all.
 *
 * Costs (envoy/README.md, "Fallback mode"; envoy-semantics.md §6):
 * - the redirect always sets :method to GET, so a HEAD becomes a GET upstream; the pull routes
 *   never include blob HEADs, so only (small) manifest HEADs pay this, but widening the routes to
 *   blob HEADs would download whole blobs to answer a HEAD;
 * - every true miss costs a cross-region round trip, and content held only by another sibling
 *   is never found;
 * - there is no failure_mode/timeout logic: a slow sibling makes the miss slow.
 * Reference: https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/http/custom_response/redirect_policy/v3/redirect_policy.proto
 */
import { EXT, TYPE } from './names';
import type { Sibling } from './routes';

type Json = Record<string, unknown>;

/**
 * Marks a request this Envoy already redirected. The sibling's Envoy runs the same fallback, so
 * without the mark a miss everywhere would bounce between regions; pull routes require it absent.
 */
export const FALLBACK_HEADER = 'x-geosync-fallback';

/** Pull routes only apply the fallback to requests that were not redirected by a sibling. */
export function notRedirectedMatcher(): Json {
  return { name: FALLBACK_HEADER, present_match: true, invert_match: true };
}

export function customResponseFilter(): Json {
  return { name: EXT.customResponse, typed_config: { '@type': TYPE.customResponse } };
}

/** Per-route CustomResponse: 404 → redirect to the sibling, same path and query. */
export function customResponsePerRoute(sibling: Sibling, self: string): Json {
  const u = new URL(sibling.url);
  return {
    [EXT.customResponse]: {
      '@type': TYPE.customResponse,
      custom_response_matcher: {
        matcher_list: {
          matchers: [
            {
              predicate: {
                single_predicate: {
                  input: { name: 'status_code', typed_config: { '@type': TYPE.statusCodeInput } },
                  value_match: { exact: '404' },
                },
              },
              on_match: {
                action: {
                  name: `fallback_to_${sibling.name}`,
                  typed_config: {
                    '@type': TYPE.redirectPolicy,
                    redirect_action: {
                      host_redirect: u.hostname,
                      ...(u.port ? { port_redirect: Number(u.port) } : {}),
                      ...(u.protocol === 'https:' ? { https_redirect: true } : { scheme_redirect: 'http' }),
                    },
                    request_headers_to_add: [
                      {
                        header: { key: FALLBACK_HEADER, value: self },
                        append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
                      },
                    ],
                  },
                },
              },
            },
          ],
        },
      },
    },
  };
}
