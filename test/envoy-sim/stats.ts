/**
 * Counters with Envoy's names, so tests can assert the same numbers they would read from a real
 * Envoy's admin `/stats`. Scopes follow Envoy: `cluster.<name>.` for cluster and router-cluster
 * stats (router.cc `cluster_->trafficStats()`), `http.<stat_prefix>.` for the HCM and router filter
 * (`stats_.passthrough_internal_redirect_*`), and `<scope>ext_proc.` for ext_proc
 * (ext_proc.h generateStats: prefix + "ext_proc." + stat_prefix). For a cluster-level upstream
 * filter the scope is taken to be the cluster's (`cluster.<name>.ext_proc.`) [I].
 */
export class Stats {
  private readonly counters = new Map<string, number>();

  inc(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  /** Creates the counter at 0 if absent (Envoy lists declared counters even when zero). */
  declare(name: string): void {
    if (!this.counters.has(name)) this.counters.set(name, 0);
  }

  /** One counter by full name (0 if never incremented). */
  get(name: string): number {
    return this.counters.get(name) ?? 0;
  }

  /**
   * Sum of every counter named `name` or ending in `.name`, e.g. `sum('streams_started')` or
   * `sum('upstream_internal_redirect_succeeded_total')` across all clusters.
   */
  sum(name: string): number {
    let total = 0;
    for (const [k, v] of this.counters) if (k === name || k.endsWith(`.${name}`)) total += v;
    return total;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counters.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Envoy admin `/stats` text format: one `name: value` per line, sorted. */
  toText(filter?: RegExp): string {
    return Object.entries(this.snapshot())
      .filter(([k]) => !filter || filter.test(k))
      .map(([k, v]) => `${k}: ${v}\n`)
      .join('');
  }
}

/** ext_proc counters, ALL_EXT_PROC_FILTER_STATS in ext_proc.h. */
export const EXT_PROC_COUNTERS = [
  'streams_started',
  'stream_msgs_sent',
  'stream_msgs_received',
  'spurious_msgs_received',
  'streams_closed',
  'streams_failed',
  'failure_mode_allowed',
  'message_timeouts',
  'rejected_header_mutations',
  'override_message_timeout_received',
  'override_message_timeout_ignored',
  'clear_route_cache_upstream_ignored',
  'send_immediate_resp_upstream_ignored',
] as const;

/** Router filter counters in `http.<stat_prefix>.` (router.h ALL_ROUTER_STATS, the redirect ones). */
export const ROUTER_REDIRECT_COUNTERS = [
  'passthrough_internal_redirect_bad_location',
  'passthrough_internal_redirect_unsafe_scheme',
  'passthrough_internal_redirect_too_many_redirects',
  'passthrough_internal_redirect_no_route',
  'passthrough_internal_redirect_predicate',
] as const;
