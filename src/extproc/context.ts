/**
 * What a stream's feature handlers (rescue.ts, fresher.ts, tag-list.ts) work with: the context
 * shared by every stream (StreamContext, built once by src/app/geosync.ts), what this stream's
 * request told about its client (StreamScope), and the one lookup every handler runs: the answer
 * already known, else the work bounded by its deadline and by Envoy cancelling the stream, traced
 * and timed. A handler returns a Plan; only the stream (stream.ts) turns it into a reply.
 */
import { bounded } from '../abort/bounded';
import type { Clock } from '../clock/clock';
import type { DecisionRecord } from '../decide/decision';
import type { Locator } from '../locate/locator';
import type { Classification, PullPolicy } from '../oci/pull';
import type { TagFreshness } from '../tag-freshness/check';
import type { TagListUnion } from '../tag-list/union';
import type { ReplacedResponse } from './replies';

export interface StreamContext {
  readonly locator: Locator;
  readonly clock: Clock;
  readonly lookupTimeoutMs: number;
  /**
   * The bound of a pull's lookup (default `lookupTimeoutMs`): the locator waits for each sibling
   * within that sibling's own deadline (src/locate/latency.ts), and this is the longest.
   */
  readonly locateTimeoutMs?: number;
  /** Which pull requests may be answered from a sibling (default: DEFAULT_PULL_POLICY). */
  readonly pullPolicy?: PullPolicy;
  /** Base URL of every sibling region by name. */
  readonly regionUrls: ReadonlyMap<string, string>;
  /** Called once per decided request (metrics, logs). */
  readonly onDecision: (record: DecisionRecord, meta: RequestMeta) => void;
  /** Tracing of one stream; absent: no spans. */
  readonly newStreamTrace?: () => StreamTrace;
  /**
   * Tag freshness of local 200s (of the tags `checks` names, tag-freshness/bound.ts); absent: off. `cached`, when
   * given, answers a check reused within T without the deadline's machinery.
   */
  readonly freshness?: Pick<TagFreshness, 'check' | 'checks'> & Partial<Pick<TagFreshness, 'cached'>>;
  /** Tag lists as the union of the local tags and the siblings' (src/tag-list/); absent: off. */
  readonly tagLists?: Pick<TagListUnion, 'union' | 'cached'>;
}

/**
 * What the stream tells tracing. Implemented in src/telemetry/ (OpenTelemetry); the stream only
 * knows this interface.
 */
export interface StreamTrace {
  /** The request is known: its ids join the span to the client's trace. */
  requestSeen(meta: { requestId?: string; traceparent?: string }): void;
  /** Runs the lookup inside the stream's trace context, so probe spans become its children. */
  lookup<T>(fn: () => Promise<T>): Promise<T>;
  decided(record: DecisionRecord, target?: Classification): void;
  end(how: string): void;
}

export interface RequestMeta {
  /** The request's method, when known (a 404 of a GET is a pull; of a HEAD, a check). */
  readonly method?: string;
  readonly requestId?: string;
  readonly traceparent?: string;
  readonly target?: Classification;
}

/** One stream as its handlers see it: the shared context, and who asks. */
export interface StreamScope {
  readonly ctx: StreamContext;
  readonly trace?: StreamTrace | undefined;
  /** Aborts when Envoy cancels the stream: every lookup stops waiting. */
  readonly cancelled: AbortSignal;
  /** Who asks, for the fairness of the lookup window (src/locate/admission.ts). */
  readonly client?: string | undefined;
  /**
   * The client's bearer token, for siblings asked with the client's own credentials
   * (`regions[].registry.credentials: client`, src/registry-api/). Never logged, traced or put in
   * a record.
   */
  readonly authorization?: string | undefined;
  /**
   * The client's credential, of a tag list only: the siblings are asked with it whether they would
   * list the repository to this client (src/tag-list/list-access.ts). Never logged, traced or put
   * in a record.
   */
  readonly tagListAuthorization?: string | undefined;
}

/** What a handler asks the stream to answer with. */
export interface Plan {
  readonly record: DecisionRecord;
  /**
   * False when Envoy cancelled the stream: the reply is never read, and a client that went away is
   * no decision (nothing is recorded).
   */
  readonly decided: boolean;
  /** A response's headers: redirect (307) to this sibling's base URL, with the request's own path. */
  readonly redirectTo?: string;
  /** A buffered body: replaced by this one. */
  readonly replace?: ReplacedResponse;
}

/** One handler's lookup. */
export interface Lookup<T> {
  /** The answer already known (a cache): no deadline, abort signal or span needed. */
  readonly known: T | undefined;
  readonly work: (signal: AbortSignal) => Promise<T>;
  /** The answer when the deadline passes (`timedOut`) or Envoy cancels the stream first. */
  readonly interrupted: (timedOut: boolean) => T;
  readonly deadlineMs: number;
}

export interface Looked<T> {
  readonly value: T;
  readonly lookupMs: number;
  /** Envoy cancelled the stream: nothing will be sent. */
  readonly cancelled: boolean;
}

/**
 * `known`, else `work` within its deadline and until Envoy cancels the stream
 * (src/abort/bounded.ts), run inside the stream's trace, and how long it took.
 */
export async function lookup<T>(scope: StreamScope, ask: Lookup<T>): Promise<Looked<T>> {
  if (ask.known) return { value: ask.known, lookupMs: 0, cancelled: scope.cancelled.aborted };
  const { clock } = scope.ctx;
  const run = (): Promise<T> => bounded(clock, ask.deadlineMs, scope.cancelled, ask.work, ask.interrupted);
  const started = clock.now();
  const value = scope.trace ? await scope.trace.lookup(run) : await run();
  return { value, lookupMs: clock.now() - started, cancelled: scope.cancelled.aborted };
}
