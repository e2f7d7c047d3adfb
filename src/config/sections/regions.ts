/** `regions:`: every replica of the registry, this one included, in the operator's order. */
import { z } from 'zod';
import { defaulted, documented, object, optional, required } from '../keys';
import { withRules, type Issue, type Parsed } from '../refine';
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

const region = withRules(
  object(
    {
      name: required(
        z.string().regex(REGION_NAME, {
          error: (iss) =>
            `"${String(iss.input)}" must be lower-case letters, digits and '-', at most 32 characters`,
        }),
      ),
      url: required(url),
      lookup: defaulted(z.enum(LOOKUP_MODES), 'storage'),
      storage: optional(storageSchema, 'none (required with `lookup: storage`)'),
      registry: optional(registryLookupSchema, 'anonymous, 2000 ms'),
    },
    {
      name: 'lower-case letters, digits, `-`; becomes Envoy cluster/route names and metric labels',
      url: "absolute `http(s)://host[:port]` that Envoy routes to that region (the 307's `location` base)",
      lookup:
        "how geosync finds content there: `storage` reads its registry's storage (CNCF distribution's layout), `registry` asks its registry's OCI distribution API at `url` (any registry)",
      storage:
        "where this region's registry (CNCF distribution) stores its content; required with `lookup: storage`",
      registry: 'how to ask the registry with `lookup: registry`: credentials, CAs, timeout',
    },
  ),
  // `lookup: storage` reads the region's storage, so it needs one; `registry:` says how to ask a
  // registry, so it belongs to `lookup: registry` alone, and a user and password to `basic`.
  ({ lookup, registry: r }, written): Issue[] => {
    if ((lookup ?? 'storage') === 'storage') {
      return [
        ...(written.storage === undefined
          ? [{ path: ['storage'], message: 'is required with `lookup: storage` (or set `lookup: registry`)' }]
          : []),
        ...(written.registry !== undefined
          ? [{ path: ['registry'], message: 'is used only with `lookup: registry`' }]
          : []),
      ];
    }
    const given = (['username', 'password'] as const).find((k) => r?.[k] !== undefined);
    return r?.credentials === 'basic' || !given
      ? []
      : [{ path: ['registry', given], message: 'is used only with `credentials: basic`' }];
  },
).transform(
  ({ name, url, lookup, storage, registry }) =>
    lookup === 'registry'
      ? {
          name,
          url,
          lookup,
          registry: registry ?? registryLookupSchema.parse({}),
          ...(storage ? { storage } : {}),
        }
      : { name, url, lookup, storage: storage! }, // the rule above refuses a storage lookup without storage
);

/** Names and URLs are each a region's own. */
function distinct(regions: Parsed<z.output<typeof region>[]>): Issue[] {
  return (['name', 'url'] as const).flatMap((key) =>
    regions.flatMap((region, index): Issue[] => {
      const value = region?.[key];
      const first = value === undefined ? -1 : regions.findIndex((r) => r?.[key] === value);
      const what = key === 'name' ? `region name "${value}"` : 'url';
      return first < 0 || first === index
        ? []
        : [{ path: [index, key], message: `duplicate ${what} (also regions[${first}])` }];
    }),
  );
}

export const regionsSchema = required(
  withRules(
    z.array(documented(required(region), 'one replica')).min(1, 'must list at least one region'),
    distinct,
  ),
);
