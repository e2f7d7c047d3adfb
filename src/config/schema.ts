/**
 * The configuration file of one geosync instance (one region), declared once: every key's type,
 * default, bounds and description. The JSON Schema (json-schema.ts), the docs/configuration.md
 * tables (scripts/config-docs/), the environment overrides (env.ts) and the TypeScript types
 * (types.ts) are all derived from it. Rules between the keys of one mapping are refinements of
 * that mapping (refine.ts); those between sections are in rules/.
 */
import { z } from 'zod';
import { BASIC_USER_ID } from '../oci/basic-user';
import { defaulted, documented, env, integer, object, optional, required } from './keys';
import { envoySection } from './sections/envoy';
import { freshnessSection } from './sections/freshness';
import { listenSection } from './sections/listen';
import { locateSection } from './sections/locate';
import { notificationsSection } from './sections/notifications';
import { regionsSchema } from './sections/regions';
import { stalenessSection } from './sections/staleness';
import { telemetrySection } from './sections/telemetry';

export const configFile = object(
  {
    region: env('GEOSYNC_REGION', required(z.string())),
    listen: listenSection,
    // Each sibling's deadline follows its measured storage latency (src/locate/latency.ts), within
    // these bounds: a near region waits at most the minimum, a far one about a round trip more
    // than its usual answer, and none longer than the maximum.
    lookupTimeoutMs: env('GEOSYNC_LOOKUP_TIMEOUT_MS', defaulted(integer(1, 10_000), 150)),
    lookupTimeoutMaxMs: env('GEOSYNC_LOOKUP_TIMEOUT_MAX_MS', defaulted(integer(1, 10_000), 2_000)),
    drainMs: env('GEOSYNC_DRAIN_MS', defaulted(integer(0, 600_000), 5000)),
    regions: regionsSchema,
    preference: optional(z.array(z.string({ error: 'must be a region name' })), '`regions` order'),
    proxyManifestHeadByDigest: defaulted(z.boolean(), true),
    pushCheckUserAgents: defaulted(z.array(z.string().min(1, { error: 'must not be empty' })), [
      'regclient/',
    ]),
    pushCheckBasicUsers: defaulted(
      z.array(
        z.string().regex(BASIC_USER_ID, {
          // The value is not echoed: a `user:password` written here by mistake stays out of the logs.
          error: 'must be a user name alone: 1 to 256 visible ASCII characters, no colon (RFC 7617 user-id)',
        }),
      ),
      [],
    ),
    freshness: freshnessSection,
    locate: locateSection,
    telemetry: telemetrySection,
    notifications: notificationsSection,
    staleness: stalenessSection,
    envoy: documented(envoySection, { docs: 'envoy/README.md' }),
  },
  {
    region: "this replica's region; one of `regions[].name`",
    listen: 'Where geosync listens.',
    lookupTimeoutMs:
      "the shortest deadline of a sibling's storage answer; each sibling's own is its smoothed latency plus four deviations (RFC 6298), at least this",
    lookupTimeoutMaxMs:
      "the longest deadline of a sibling's storage answer (a silent sibling delays a 404 at most this), and how long a sibling that missed its deadline is still heard for the cache; a value below `lookupTimeoutMs` reads as `lookupTimeoutMs`; below `envoy.extProc.messageTimeoutMs`",
    drainMs: 'after SIGTERM: NOT_SERVING at once, open streams answered this long, then exit 0',
    regions: 'every replica, this one included',
    preference:
      'sibling regions in the order they are preferred as a source (unlisted siblings follow, in `regions` order)',
    proxyManifestHeadByDigest:
      'proxy `HEAD /v2/<name>/manifests/<digest>` (containerd resolves pinned images with it). Set `false` if clients that no token, User-Agent or Basic user marks as pushers push manifests a sibling may already hold (docs/pushes.md)',
    pushCheckUserAgents:
      "User-Agent prefixes of clients whose manifest HEAD is a push's \"does the destination hold it?\" check even without a push token (regctl and regsync check the destination with a pull-only token): such a HEAD gets this region's own answer, never a sibling's",
    pushCheckBasicUsers:
      "Basic-auth user names (htpasswd users such as a CI robot) whose manifest HEAD is a push's \"does the destination hold it?\" check: such a HEAD gets this region's own answer, never a sibling's. Envoy passes geosync the user name only, never the password; the generated Envoy configuration decodes it when this list is not empty, so regenerate it after changing the list",
    freshness: 'Tag freshness and tag lists.',
    locate: 'How geosync finds content in the sibling regions.',
    telemetry: 'Traces, metrics and logs.',
    notifications: "The local registry's notifications.",
    staleness: 'The staleness figures.',
    envoy: 'What `geosync envoy-config` needs beyond the regions.',
  },
);

/** The file after parsing: defaults applied and single values normalised, before rules/ relate them. */
export type ConfigFile = z.output<typeof configFile>;
