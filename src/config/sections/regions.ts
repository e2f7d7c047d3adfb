/** `regions:`: every replica of the registry, this one included, in the operator's order. */
import { z } from 'zod';
import { defaulted, optional, required } from '../keys';
import { LOOKUP_MODES, registryLookupSchema } from './registry-lookup';
import { storageSchema } from './storage';

/** Region names become Envoy cluster and route names and metric label values. */
const REGION_NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

/** The base URL Envoy routes to a region, normalised to `scheme://host[:port]` (WHATWG URL). */
const url = z.string().transform((value, ctx) => {
  const parsed = baseUrl(value);
  if (typeof parsed === 'string') return parsed;
  ctx.issues.push({ code: 'custom', message: parsed.problem, input: value });
  return z.NEVER;
});

function baseUrl(value: string): string | { problem: string } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { problem: `"${value}" is not an absolute URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { problem: `must be http or https, got "${url.protocol.replace(':', '')}"` };
  if (url.search || url.hash || url.username || url.password)
    return { problem: 'must not carry a query, fragment or credentials' };
  // Envoy's internal redirect keeps the registry's /v2/ path; a base path would need a prefix
  // rewrite on the sibling route, which geosync does not generate.
  if (url.pathname !== '/' && url.pathname !== '')
    return { problem: 'must be a scheme and host[:port] only, without a path' };
  return `${url.protocol}//${url.host}`;
}

const region = required(
  z.strictObject({
    name: required(
      z.string().regex(REGION_NAME, {
        error: (iss) =>
          `"${String(iss.input)}" must be lower-case letters, digits and '-', at most 32 characters`,
      }),
      {
        description: 'lower-case letters, digits, `-`; becomes Envoy cluster/route names and metric labels',
      },
    ),
    url: required(url, {
      description:
        "absolute `http(s)://host[:port]` that Envoy routes to that region (the 307's `location` base)",
    }),
    lookup: defaulted(z.enum(LOOKUP_MODES), 'storage', {
      description:
        "how geosync finds content there: `storage` reads its registry's storage (CNCF distribution's layout), `registry` asks its registry's OCI distribution API at `url` (any registry)",
    }),
    // Required when `lookup` is `storage` (rules/regions.ts): the schema alone cannot say so.
    storage: optional(storageSchema, {
      description:
        "where this region's registry (CNCF distribution) stores its content; required with `lookup: storage`",
      defaultText: 'none (required with `lookup: storage`)',
    }),
    registry: optional(registryLookupSchema, {
      description: 'how to ask the registry with `lookup: registry`: credentials, CAs, timeout',
      defaultText: 'anonymous, 2000 ms',
      docs: 'registry lookups',
    }),
  }),
  { description: 'one replica' },
);

export const regionsSchema = required(z.array(region).min(1, 'must list at least one region'), {
  description: 'every replica, this one included',
});
