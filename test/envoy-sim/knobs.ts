/**
 * Version differences the simulator can reproduce (envoy-semantics.md §8 and §7 "Expose as knobs").
 * Every knob has a default derived from `envoyVersion`; an explicit value wins.
 */
export interface Knobs {
  /** Envoy minor line being imitated, e.g. '1.31' or '1.37'. */
  envoyVersion: string;
  /** Runtime `send_header_raw_value` (default true since 1.27, §1.3/§2.3): send and read `raw_value` only. */
  sendRawValue: boolean;
  /** `ext_proc_stream_close_optimization` (1.37, §1.8): close the stream once no more replies are expected. */
  streamCloseOptimization: boolean;
  /** 1.37 fix (§1.4): request-header attributes available on the encode path when request headers are SKIP. */
  encodeOnlyAttributesFix: boolean;
  /** PR #41231 (§2.4, after 1.37 [I]): an upstream ext_proc immediate/error reply becomes a local reply; before, it was ignored and the attempt hung. */
  upstreamImmediateResponse: boolean;
  /** Status of the message-timeout error reply with FMA=false (§3.1: 500 before ≈1.32, then 504). */
  timeoutStatus: 500 | 504;
  /** `ext_proc_fail_close_spurious_resp` (1.35, §3.4): a spurious reply with FMA=false is an error reply. */
  spuriousFailClose: boolean;
  /** 1.34 (§1.6): DEFAULT header/trailer modes in `mode_override` leave the configured value unchanged. */
  modeOverrideDefaultUnchanged: boolean;
  /**
   * Verify upstream TLS certificates. Unset: as Envoy does, verify only when the cluster's
   * UpstreamTlsContext has a validation_context. Set to force either way in tests.
   */
  rejectUnauthorized?: boolean;
  /** Extra CA certificates for upstream TLS. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Static name resolution for cluster endpoints (like /etc/hosts): hostname → IP. */
  hosts: Record<string, string>;
  /** Added latency before each upstream request, per cluster name (emulates a cross-region hop). */
  upstreamDelayMs: Record<string, number>;
  /** Address the listeners bind when the bootstrap says 0.0.0.0/:: (the simulator stays on loopback). */
  listenHost: string;
  /** Bind every listener on an ephemeral port, whatever `port_value` says. */
  ephemeralPorts: boolean;
}

export function minorOf(version: string): number {
  const m = /^1\.(\d+)/.exec(version);
  if (!m?.[1]) throw new Error(`envoy-sim: envoyVersion must look like 1.NN, got '${version}'`);
  return Number(m[1]);
}

export function resolveKnobs(partial: Partial<Knobs> = {}): Knobs {
  const envoyVersion = partial.envoyVersion ?? '1.37';
  const minor = minorOf(envoyVersion);
  return {
    envoyVersion,
    sendRawValue: minor >= 27,
    streamCloseOptimization: minor >= 37,
    encodeOnlyAttributesFix: minor >= 37,
    upstreamImmediateResponse: minor >= 38,
    timeoutStatus: minor >= 32 ? 504 : 500,
    spuriousFailClose: minor >= 35,
    modeOverrideDefaultUnchanged: minor >= 34,
    hosts: {},
    upstreamDelayMs: {},
    listenHost: '127.0.0.1',
    ephemeralPorts: false,
    ...stripUndefined(partial),
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
