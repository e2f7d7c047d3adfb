/**
 * What the supervisor of `geosync serve` and its workers say to each other over Node's IPC
 * channel (node:cluster, `serialization: 'advanced'`, so a Date in a decision arrives as a Date).
 * The instance in the supervisor's process owns the admin port (readiness, /metrics, /staleness,
 * the registry's notifications); each worker runs an engine, answering ext_proc on the shared
 * gRPC address.
 */
import type { DecisionRecord } from '../decide/decision';
import type { PullTarget } from '../oci/pull';
import type { FoundManifest } from '../locate/locator';
import type { LearntVerdict } from '../tag-freshness/check';

export type ToSupervisor =
  /** The worker's gRPC server is bound and its storage warm-up done. */
  | { readonly type: 'ready' }
  /** A pull decided (GETs of manifests only: all the staleness figures need). */
  | {
      readonly type: 'pull';
      readonly record: DecisionRecord;
      readonly method: string;
      readonly target: PullTarget;
    }
  /** The worker's Prometheus text, answering `metrics` with the same id. */
  | { readonly type: 'metrics'; readonly id: number; readonly text: string }
  /**
   * The worker closed after `stop`. Its process ends once `hangingFsCalls` filesystem calls
   * blocked in the kernel (a dead mount) return, which may be never: the supervisor stops
   * waiting for the exit itself to report it.
   */
  | { readonly type: 'closed'; readonly hangingFsCalls: number }
  /** A tag-freshness verdict learnt from storage; the supervisor passes it to the other workers. */
  | { readonly type: 'learnt'; readonly verdict: LearntVerdict }
  /** A manifest found in a sibling's storage; the supervisor passes it to the other workers. */
  | { readonly type: 'found'; readonly target: ManifestTarget; readonly found: FoundManifest };

export type ToWorker =
  /** gRPC health NOT_SERVING; streams still answered. */
  | { readonly type: 'drain' }
  /** Close (open streams get `graceMs`), then exit 0. */
  | { readonly type: 'stop'; readonly graceMs: number }
  | { readonly type: 'metrics'; readonly id: number }
  /** Another worker's tag-freshness verdict, to adopt (TagFreshness.adopt). */
  | { readonly type: 'learnt'; readonly verdict: LearntVerdict }
  /** A manifest another worker found, to adopt (Locator.adoptFound). */
  | { readonly type: 'found'; readonly target: ManifestTarget; readonly found: FoundManifest };

type ManifestTarget = Exclude<PullTarget, { kind: 'blob' }>;

export function isToSupervisor(m: unknown): m is ToSupervisor {
  const type = (m as { type?: unknown } | null)?.type;
  return (
    type === 'ready' ||
    type === 'pull' ||
    type === 'metrics' ||
    type === 'closed' ||
    type === 'learnt' ||
    type === 'found'
  );
}

export function isToWorker(m: unknown): m is ToWorker {
  const type = (m as { type?: unknown } | null)?.type;
  return type === 'drain' || type === 'stop' || type === 'metrics' || type === 'learnt' || type === 'found';
}
