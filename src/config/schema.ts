/**
 * The configuration file of one geosync instance (one region), declared once: every key's type,
 * default, bounds and description. The JSON Schema, the docs/configuration.md tables, the
 * environment overrides and the TypeScript types (types.ts) are derived from it. Rules between the
 * keys of one mapping are refinements of that mapping (refine.ts); those between sections are in rules.ts.
 */
import { z } from 'zod';
import { BASIC_USER_ID } from '../oci/basic-user';
import { defaulted, documented, env, integer, matching, object, optional, required, section } from './keys';
import { envoySection } from './sections/envoy';
import { listenSection } from './sections/listen';
import { locateSection } from './sections/locate';
import { notificationsSection } from './sections/notifications';
import { regionsSchema } from './sections/regions';

// One hour at most: a longer bound is replication's own lag, not a freshness promise.
const staleness = (value: number) => defaulted(integer(0, 3_600_000), value);

/** Resource attribute values as OpenTelemetry takes them: strings (numbers and booleans are written out). */
const attribute = z
  .union([z.string(), z.number(), z.boolean()], { error: 'must be a string' })
  .transform(String);

export const configFile = object(
  {
    region: env('GEOSYNC_REGION', required(z.string())),
    listen: listenSection,
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
    freshness: section(
      {
        tagMaxStalenessMs: staleness(0),
        signatureTagMaxStalenessMs: staleness(1000),
        tagListMaxStalenessMs: staleness(1000),
      },
      {
        tagMaxStalenessMs:
          'tag freshness: a local 200 to a manifest by tag is served from a sibling whose tag moved past the local digest, with answers reused for at most this long (T); 0 = off. Regenerate the Envoy bootstrap after changing 0 ↔ non-zero (its matcher then lets those 200s through). See docs/replication-and-staleness.md, "Tag freshness"',
        signatureTagMaxStalenessMs:
          'the same check, on by default, for the tags signatures and attestations live under (`sha256-<hex>` of the referrers tag schema, cosign\'s `.sig`, `.att`, `.sbom`), reused at most this long; 0 = these tags follow `tagMaxStalenessMs`. See docs/replication-and-staleness.md, "Signatures and attestations"',
        tagListMaxStalenessMs:
          "tag lists: `GET /v2/<name>/tags/list` answers the union of the local tags and those the siblings' storage holds, each sibling listed at most once per this long; 0 = off (the local list passes as it is). See docs/tag-lists.md",
      },
    ),
    locate: locateSection,
    telemetry: section(
      {
        serviceName: defaulted(z.string(), 'geosync'),
        otlpEndpoint: env(
          'GEOSYNC_OTLP_ENDPOINT',
          optional(matching(/^https?:\/\/[^/]+/, 'an http(s) URL'), 'none'),
        ),
        resourceAttributes: defaulted(z.record(z.string(), attribute), {}),
        traceRepositoryNames: defaulted(z.boolean(), false),
        logLevel: env(
          'GEOSYNC_LOG_LEVEL',
          defaulted(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info'),
        ),
      },
      {
        serviceName: 'OpenTelemetry `service.name`',
        otlpEndpoint: 'OTLP/gRPC endpoint for traces (none: traces are not exported)',
        resourceAttributes: 'extra resource attributes (`cloud.region` is set to `region`)',
        traceRepositoryNames: 'put repository names in spans and decision logs (off: names can be sensitive)',
        logLevel: 'the lowest level logged',
      },
    ),
    notifications: notificationsSection,
    staleness: section(
      {
        windowMs: defaulted(integer(60_000, 7 * 86_400_000), 3_600_000),
        maxSamples: defaulted(integer(100, 1_000_000), 10_000),
      },
      {
        windowMs: 'the report covers this long until now (1 min – 7 days)',
        maxSamples:
          'samples kept per region pair and series, and manifests remembered per kind; the oldest go first',
      },
    ),
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

/** The file after parsing: defaults applied and single values normalised, before rules.ts relates them. */
export type ConfigFile = z.output<typeof configFile>;
