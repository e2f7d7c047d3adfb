/**
 * `regions[].registry`: how geosync asks a sibling's registry through the OCI distribution API
 * (`lookup: registry`), for registries that keep no distribution layout or whose buckets other
 * regions may not read. https://github.com/opencontainers/distribution-spec/blob/main/spec.md
 */
import { z } from 'zod';
import { absolutePath, defaulted, env, integer, object, optional, secret } from '../keys';

export const LOOKUP_MODES = ['storage', 'registry'] as const;

export const registryLookupSchema = object(
  {
    credentials: defaulted(z.enum(['none', 'client', 'basic']), 'none'),
    username: optional(z.string().min(1), 'none'),
    password: env('GEOSYNC_REGISTRY_<REGION>_PASSWORD', secret(optional(z.string().min(1), 'none'))),
    caFile: optional(absolutePath(), "Node's CA store"),
    // The registry that answers lookups also serves the pulls redirected to it: under a herd its
    // answers come later than storage's, and a request cut at 1 s there failed a 5,000-node herd's
    // lookups that the lookup's own bound (`lookupTimeoutMaxMs`, 2 s) would have waited for.
    requestTimeoutMs: defaulted(integer(1, 60_000), 2000),
  },
  {
    credentials:
      "`none` (anonymous), `client` (the pulling client's own `Authorization`: regions that share one token service) or `basic` (`username` and `password`: a robot account or deploy token; traded for a bearer token when the registry asks)",
    username: 'user name of the `basic` service credential',
    password: 'password or token of the `basic` service credential; prefer the environment variable',
    caFile: "a PEM bundle of the CAs that sign the registry's certificate (with the system's)",
    requestTimeoutMs:
      'timeout of one request to the registry (the lookup deadline, `lookupTimeoutMaxMs`, still bounds it)',
  },
);
