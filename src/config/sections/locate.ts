/** `locate:`: how geosync looks for content in the sibling regions' storage (src/locate/). */
import { z } from 'zod';
import { defaulted, integer, section } from '../keys';

export const locateSection = section(
  {
    hedgeMs: defaulted(integer(0, 1000), 10),
    manifestContents: defaulted(z.boolean(), true),
    probeBlobData: defaulted(z.boolean(), true),
    // A blob lookup takes 2 slots (link and data); more than the S3 agent's sockets per region
    // (256, src/storage/s3-probe.ts) would queue probes in the agent instead of answering overflow.
    maxConcurrentProbesPerRegion: defaulted(integer(2, 256), 256),
    keepWarmIntervalMs: defaulted(integer(0, 3_600_000), 15_000),
    cache: section(
      {
        maxEntries: defaulted(integer(0), 100_000),
        maxBytes: defaulted(integer(0), 32 * 1024 * 1024),
        digestTtlMs: defaulted(integer(0), 10 * 60_000),
        tagTtlMs: defaulted(integer(0, 300_000), 5_000),
        // Long enough to absorb a burst of the same miss; two seconds hid a blob that had landed
        // for about 1.7 s.
        negativeTtlMs: defaulted(integer(0, 10_000), 250),
      },
      {
        maxEntries: 'entries of the lookup cache at most',
        maxBytes: 'bytes of the lookup cache at most',
        digestTtlMs: 'positive entries for digests (content-addressed, immutable)',
        tagTtlMs: 'positive entries for tags (tags move)',
        negativeTtlMs:
          '"nowhere" entries: for this long after a miss, the same lookup answers "nowhere" without asking storage; content that lands in a sibling meanwhile is found by the first lookup after it',
      },
    ),
    breaker: section(
      { failureThreshold: defaulted(integer(1), 5), coolDownMs: defaulted(integer(1), 10_000) },
      {
        failureThreshold: "consecutive probe errors/timeouts that open a region's circuit breaker",
        coolDownMs: 'an open region is skipped this long, then one trial probe',
      },
    ),
    healthCheck: section(
      {
        enabled: defaulted(z.boolean(), false),
        intervalMs: defaulted(integer(100), 5_000),
        timeoutMs: defaulted(integer(1), 1_000),
        unhealthyThreshold: defaulted(integer(1), 2),
      },
      {
        enabled:
          'periodically `GET <url>/v2/` of each sibling; a region whose registry is down is not chosen',
        intervalMs: 'time between two checks of a region',
        timeoutMs: 'timeout of one check',
        unhealthyThreshold: "consecutive failed checks before a region's registry counts as down",
      },
    ),
  },
  {
    hedgeMs: 'after a less preferred region answers "found", wait this long for a more preferred one',
    manifestContents:
      'read a manifest found in a sibling once (at most 4 MiB) and answer the lookups of the blobs it names from it; turn it off if a replicator copies manifests before their blobs',
    probeBlobData: 'also require the blob `data` object (replication can copy a link before its data)',
    maxConcurrentProbesPerRegion:
      'in-flight storage requests per region (a blob lookup takes 2); overflow answers "not found" instead of queueing past the deadline',
    keepWarmIntervalMs:
      "geosync opens each sibling's storage connection before it reports ready, and re-opens it this often (a HEAD of a key distribution never writes), so a first pull does not spend its deadline on a TCP/TLS handshake; 0 = only at start",
    cache: 'the lookup cache',
    breaker: "each region's circuit breaker",
    healthCheck: "health checks of the sibling regions' registries",
  },
);
