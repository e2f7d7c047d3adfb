/**
 * `regions[].registry`: how geosync asks a sibling's registry itself (`lookup: registry`) through
 * the OCI distribution API, instead of reading its storage: for registries that keep no
 * distribution layout (zot, Harbor's and GitLab's tags in a database, Quay, Artifactory, cloud
 * registries) or whose buckets other regions may not read.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md
 */
import { z } from 'zod';
import { absolutePath, defaulted, integer, optional, secret } from '../keys';

export const LOOKUP_MODES = ['storage', 'registry'] as const;

/**
 * - `none`: anonymous requests (a registry's token flow is still followed, anonymously);
 * - `client`: the pulling client's own `Authorization`, for regions that share one token service;
 * - `basic`: a service credential (a robot account, a deploy token), sent as Basic or traded for a
 *   bearer token when the registry asks for one.
 */
export const REGISTRY_CREDENTIALS = ['none', 'client', 'basic'] as const;

export const registryLookupSchema = z.strictObject({
  credentials: defaulted(z.enum(REGISTRY_CREDENTIALS), 'none', {
    description:
      "`none` (anonymous), `client` (the pulling client's own `Authorization`: regions that share one token service) or `basic` (`username` and `password`: a robot account or deploy token; traded for a bearer token when the registry asks)",
  }),
  username: optional(z.string().min(1), {
    description: 'user name of the `basic` service credential',
    defaultText: 'none',
  }),
  password: secret(
    optional(z.string().min(1), {
      description: 'password or token of the `basic` service credential; prefer the environment variable',
      defaultText: 'none',
    }),
  ),
  caFile: optional(absolutePath(), {
    description: "a PEM bundle of the CAs that sign the registry's certificate (with the system's)",
    defaultText: "Node's CA store",
  }),
  // The registry that answers lookups also serves the pulls redirected to it: under a herd its
  // answers come later than storage's, and a request cut at 1 s there failed a 5,000-node herd's
  // lookups that the lookup's own bound (`lookupTimeoutMaxMs`, 2 s) would have waited for.
  requestTimeoutMs: defaulted(integer(1, 60_000), 2000, {
    description:
      'timeout of one request to the registry (the lookup deadline, `lookupTimeoutMaxMs`, still bounds it)',
  }),
});

export type RegistryLookupConfig = z.output<typeof registryLookupSchema>;
