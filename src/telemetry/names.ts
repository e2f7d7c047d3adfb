/**
 * Every metric, span and attribute name geosync emits, in one place (docs/metrics.md lists the
 * same). Labels are bounded: region names from the configuration, outcome/kind/result enums.
 * Never a repository name or digest as a label.
 * Durations are in seconds. The Prometheus exporter of this OpenTelemetry line does not append
 * units, so duration names carry `_seconds` themselves, as Prometheus convention wants
 * (`geosync_lookup_duration_seconds_bucket`).
 */

export const METER_NAME = 'geosync';
export const TRACER_NAME = 'geosync';

export interface MetricSpec {
  readonly name: string;
  readonly unit: string;
  readonly description: string;
}

function m(name: string, unit: string, description: string): MetricSpec {
  return { name, unit, description };
}

export const METRICS = {
  streams: m(
    'geosync.extproc.streams',
    '{stream}',
    'ext_proc streams closed, by how they ended (ended, cancelled, protocol_error)',
  ),
  streamsActive: m('geosync.extproc.streams.active', '{stream}', 'ext_proc streams open now'),
  messages: m(
    'geosync.extproc.messages',
    '{message}',
    'ext_proc messages received, by phase (request_headers, response_headers, ...)',
  ),
  decisions: m(
    'geosync.decisions',
    '{decision}',
    'Decisions by outcome (pass, proxied, fresher, not_found, timeout, error, ineligible) and kind',
  ),
  tagFreshness: m(
    'geosync.tag_freshness.checks',
    '{check}',
    'Tag-freshness checks of local 200s by result: fresh, newer (served from a sibling), conflict (both regions moved the tag; the local answer stood), timeout, error',
  ),
  tagStorageRounds: m(
    'geosync.tag_freshness.storage_rounds',
    '{round}',
    'Tag-freshness checks that read storage (the others were answered from the cache, at most freshness.tagMaxStalenessMs old, or joined one in flight)',
  ),
  tagStalenessCorrected: m(
    'geosync.tag_freshness.corrected_staleness_seconds',
    's',
    "Tags served fresher from a sibling: seconds since the sibling's tag moved (its current link's LastModified), i.e. how stale the local answer would have been",
  ),
  lookupDuration: m('geosync.lookup.duration_seconds', 's', 'Time to answer a lookup for a 404, by outcome'),
  cacheLookups: m(
    'geosync.cache.lookups',
    '{lookup}',
    'Locator cache lookups by result (hit, negative_hit, miss)',
  ),
  cacheEvictions: m(
    'geosync.cache.evictions',
    '{entry}',
    'Locator cache entries evicted, by reason (expired, entries, bytes)',
  ),
  coalesced: m(
    'geosync.lookup.coalesced',
    '{waiter}',
    'Lookups that joined an identical lookup already in flight',
  ),
  shed: m(
    'geosync.lookup.shed',
    '{lookup}',
    'Lookups not started because more were running than finish within the deadline; their 404s passed at once (decision outcome pass)',
  ),
  manifestContents: m(
    'geosync.manifest_contents.reads',
    '{read}',
    'Manifests found in a sibling and read there for the blobs and child manifests they name (answered from the cache afterwards), by region and result: learnt, not_found, no_digest, digest_mismatch, not_json, media_type, or an error kind',
  ),
  probes: m(
    'geosync.probes',
    '{probe}',
    'Region probes (all keys of one lookup) by region and result: found, not_found, an error kind, or skipped_<reason> when the region was not asked',
  ),
  probeDuration: m('geosync.probe.duration_seconds', 's', 'Region probe latency by region'),
  probesInflight: m('geosync.probes.inflight', '{request}', 'Storage requests in flight by region'),
  breakerState: m(
    'geosync.breaker.state',
    '{state}',
    'Circuit breaker per region: 0 closed, 1 half-open, 2 open',
  ),
  timeToPullable: m(
    'geosync.time_to_pullable_seconds',
    's',
    'First rescued GET of each manifest (per source region, within the staleness window): seconds from its push at the source region (LastModified there) until this region served it through geosync',
  ),
  replicationLag: m(
    'geosync.replication.lag_seconds',
    's',
    'Manifest pushes in this region that a sibling held earlier: seconds from the push at the earliest such sibling (LastModified) to the push here (the registry event timestamp)',
  ),
  arrivals: m(
    'geosync.replication.arrivals',
    '{manifest}',
    'Manifest pushes in this region that a sibling held earlier (arrivals by replication), by source region',
  ),
  originPushes: m(
    'geosync.origin_pushes',
    '{manifest}',
    'Manifest pushes in this region that no sibling held earlier (content that starts here)',
  ),
  unreplicatedPulls: m(
    'geosync.unreplicated_pulls',
    '{pull}',
    'Manifest GETs of content a sibling held and this region did not yet: rescued by geosync, or missed (answered 404; known once the manifest arrives)',
  ),
  notificationRequests: m(
    'geosync.notifications.requests',
    '{request}',
    'Notification deliveries from the local registry, by result (accepted, unauthorized, unsupported_media_type, too_large, malformed, aborted)',
  ),
  notificationEvents: m(
    'geosync.notifications.events',
    '{event}',
    'Notification events, by what they were: arrival, origin, unknown (a sibling storage did not answer), ignored (not a manifest push), duplicate (re-delivered), dropped (too many at once)',
  ),
  rescued: m(
    'geosync.pulls.rescued',
    '{pull}',
    'Pulls answered by a sibling region instead of a 404, by source region and kind',
  ),
  workerRestarts: m(
    'geosync.worker.restarts',
    '{restart}',
    'workers of `geosync serve` that exited on their own and were started again (listen.workers)',
  ),
} as const;

export const ATTR = {
  outcome: 'geosync.outcome',
  kind: 'geosync.kind',
  reason: 'geosync.reason',
  phase: 'geosync.phase',
  how: 'geosync.how',
  region: 'geosync.region',
  /** `storage` or `registry` (`regions[].lookup`). */
  lookup: 'geosync.lookup',
  sourceRegion: 'geosync.source_region',
  result: 'geosync.result',
  repository: 'geosync.repository',
  requestId: 'geosync.request_id',
  lookupMs: 'geosync.lookup_ms',
} as const;

export const SPANS = {
  stream: 'geosync.extproc.stream',
  lookup: 'geosync.lookup',
  probe: 'geosync.probe',
} as const;

/** Histogram buckets (seconds): lookups live within Envoy's 200 ms message timeout. */
export const LOOKUP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.5, 1];
/** Staleness spans a fraction of a second (a rescue) to hours (a stuck replication). */
export const STALENESS_BUCKETS = [
  0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400,
];
