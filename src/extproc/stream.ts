/**
 * One ext_proc stream = one upstream request to the local registry. The processor remembers what
 * the request was (from request headers, or from `response_attributes` when Envoy skips them) and
 * answers each message with exactly one reply of the matching kind.
 * Protocol: envoy/service/ext_proc/v3/external_processor.proto; Envoy waits for one reply per
 * message within `message_timeout`, so every path below ends in a reply or a clean stream end.
 */
import { bounded } from '../abort/bounded';
import type { Clock } from '../clock/clock';
import type { DecisionRecord } from '../decide/decision';
import {
  classify,
  freshnessRecord,
  NOT_FOUND,
  OK,
  planResponse,
  recordFor,
  redirectLocation,
  tagListRecord,
} from '../decide/decision';
import type { ProcessingRequest__Output } from '../generated/envoy/service/ext_proc/v3/ProcessingRequest';
import type { ProcessingResponse } from '../generated/envoy/service/ext_proc/v3/ProcessingResponse';
import type { FreshnessResult, TagFreshness } from '../tag-freshness/check';
import type { LocateResult, Locator } from '../locate/locator';
import type { Classification, PullPolicy, PullRequestInfo } from '../oci/pull';
import { basicUser } from '../oci/basic-user';
import { pushRepositories } from '../oci/push-access';
import {
  ATTRIBUTE,
  HEADER,
  MAX_CLIENT_VALUE_LENGTH,
  clientAddress,
  readAttributes,
  readHeaders,
} from './headers';
import {
  bodyContinueReply,
  bufferResponseBodyReply,
  continueReply,
  continueSkippingResponse,
  redirectReply,
  replaceBodyReply,
  responseContinueReply,
  type Phase,
} from './replies';
import {
  nextLink,
  parseTagListRequest,
  readLocalAnswer,
  tagListBody,
  type TagListRequest,
} from '../tag-list/page';
import type { TagListUnion, UnionOutcome } from '../tag-list/union';

const TIMEOUT: LocateResult = { outcome: 'timeout' };
const CANCELLED: LocateResult = { outcome: 'error', code: 'cancelled' };

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

/**
 * A reply to send, or a protocol error that ends the stream (Envoy then fails open). `last` marks
 * the last reply geosync will ever need on this stream: the server then ends the stream itself.
 */
export type StepResult =
  { readonly reply: ProcessingResponse; readonly last?: boolean } | { readonly protocolError: string };

export class StreamProcessor {
  private request?: PullRequestInfo;
  private classification?: Classification;
  private meta: { requestId?: string; traceparent?: string } = {};
  /** Who asks, for the fairness of the lookup window (src/locate/admission.ts). */
  private client?: string;
  /** One HTTP request per stream, so one decision per stream. */
  private decided = false;
  /** A tag list whose body Envoy was asked to send (src/tag-list/). */
  private tagList?: { readonly req: TagListRequest; readonly status: string; readonly more: boolean };
  /**
   * The client's credential, of a tag list only: the siblings are asked with it whether they would
   * list the repository to this client (src/tag-list/list-access.ts). Never logged, traced or put
   * in a record.
   */
  private tagListAuthorization?: string;
  /**
   * The client's bearer token, for siblings asked with the client's own credentials
   * (`regions[].registry.credentials: client`, src/registry-api/). Never logged, traced or put in
   * a record.
   */
  private authorization?: string;

  constructor(
    private readonly ctx: StreamContext,
    private readonly trace?: StreamTrace,
  ) {}

  /** `cancelled` aborts when Envoy cancels the stream (the lookup stops waiting). */
  async step(msg: ProcessingRequest__Output, cancelled: AbortSignal): Promise<StepResult> {
    const phase = phaseOf(msg);
    switch (phase) {
      case 'request_headers': {
        const reply = this.onRequestHeaders(msg);
        // An ineligible request needs nothing more from this stream.
        return { reply, last: this.classification?.eligible === false };
      }
      case 'response_headers': {
        const reply = await this.onResponseHeaders(msg, cancelled);
        return { reply, last: this.tagList === undefined };
      }
      case 'response_body':
        if (this.tagList) return { reply: await this.onTagListBody(msg, cancelled), last: true };
        return { reply: continueReply(phase) };
      case 'request_body':
      case 'request_trailers':
      case 'response_trailers':
        // geosync configures these modes off, but a reply of the matching kind keeps the
        // stream correct if an operator turns them on.
        return { reply: continueReply(phase) };
      default:
        return { protocolError: 'ProcessingRequest carries no request/response message' };
    }
  }

  private onRequestHeaders(msg: ProcessingRequest__Output): ProcessingResponse {
    const headers = readHeaders(msg.request_headers?.headers);
    this.captureMeta(headers.get(HEADER.requestId), headers.get(HEADER.traceparent));
    this.request = {
      method: headers.get(HEADER.method) ?? '',
      path: headers.get(HEADER.path) ?? '',
      redirected: headers.has(HEADER.forwardedBy),
      pushRepositories: pushRepositories(headers.get(HEADER.authorization)),
      ...optionalUserAgent(headers.get(HEADER.userAgent)),
      ...optionalBasicUser(headers.get(HEADER.basicUser)),
    };
    if (parseTagListRequest(this.request.path)) this.tagListAuthorization = headers.get(HEADER.authorization);
    this.classification = classify(this.request, this.ctx.pullPolicy);
    if (!this.classification.eligible) {
      this.decide({ outcome: 'ineligible', reason: this.classification.reason });
      return continueSkippingResponse();
    }
    return continueReply('request_headers');
  }

  private async onResponseHeaders(
    msg: ProcessingRequest__Output,
    cancelled: AbortSignal,
  ): Promise<ProcessingResponse> {
    const headers = readHeaders(msg.response_headers?.headers);
    if (!this.request) {
      // Request headers are skipped (the generated configuration): the request comes from the
      // `response_attributes` of this first and only message.
      const attrs = readAttributes(msg.attributes);
      this.captureMeta(attrs.get(ATTRIBUTE.requestId), attrs.get(ATTRIBUTE.traceparent));
      this.client = clientAddress(attrs.get(ATTRIBUTE.sourceAddress));
      const path = attrs.get(ATTRIBUTE.path);
      const method = attrs.get(ATTRIBUTE.method);
      if (path !== undefined && method !== undefined) {
        const size = Number(attrs.get(ATTRIBUTE.bodySize) ?? 0);
        this.request = {
          method,
          path,
          redirected: attrs.has(ATTRIBUTE.forwardedBy),
          ...(size > 0 ? { bodyBytes: size } : {}),
          pushRepositories: pushRepositories(attrs.get(ATTRIBUTE.bearer)),
          ...optionalUserAgent(attrs.get(ATTRIBUTE.userAgent)),
          ...optionalBasicUser(attrs.get(ATTRIBUTE.basicUser)),
        };
        // '' for every request but a tag list (the attribute's CEL conditional); absent: no header.
        this.tagListAuthorization = attrs.get(ATTRIBUTE.tagListAuthorization) || undefined;
        this.authorization = attrs.get(ATTRIBUTE.bearer) || undefined;
      }
      this.classification = classify(this.request, this.ctx.pullPolicy);
    }
    const tagList = this.tagListAsked(headers);
    if (tagList) {
      this.tagList = tagList;
      return bufferResponseBodyReply();
    }
    const plan = planResponse(this.classification ?? classify(undefined), {
      status: headers.get(HEADER.status),
      contentDigest: headers.get(HEADER.contentDigest),
      ...(this.ctx.freshness ? { checksTag: (tag: string) => this.ctx.freshness?.checks(tag) ?? false } : {}),
    });
    if (plan.action === 'continue') {
      this.decide(plan.record);
      return responseContinueReply(plan.record);
    }
    if (plan.action === 'freshness') return this.checkFreshness(plan, cancelled);

    const target = plan.classification.target;
    // Most lookups of a herd are answered from the cache: no deadline, abort signal or span needed.
    const known = this.ctx.locator.cached?.(target, this.authorization);
    const { value: result, lookupMs } = known
      ? { value: known, lookupMs: 0 }
      : await this.timed(() => this.lookup(target, cancelled));
    // Envoy cancelled the stream: nothing will be sent, and a client that went away is no error.
    if (cancelled.aborted) return responseContinueReply({ outcome: 'pass', kind: target.kind, lookupMs });
    const url = result.outcome === 'found' ? this.ctx.regionUrls.get(result.region) : undefined;
    // A region this instance has no URL for is a wiring bug: the 404 passes.
    const found = result.outcome !== 'found' || url !== undefined;
    return this.answer(
      recordFor(target.kind, found ? result : { outcome: 'error', code: 'no_region_url' }, lookupMs),
      url,
    );
  }

  /**
   * A local 200 of a manifest by tag: serve a sibling's newer manifest instead, if the tag moved
   * there (a 307 exactly like a rescued 404's); otherwise, and on any failure, the 200 stands.
   */
  private async checkFreshness(
    plan: Extract<ReturnType<typeof planResponse>, { action: 'freshness' }>,
    cancelled: AbortSignal,
  ): Promise<ProcessingResponse> {
    const freshness = this.ctx.freshness as NonNullable<StreamContext['freshness']>;
    const { repository, tag } = plan.target;
    // The common case of a herd: the answer is reused within T, so no deadline is needed.
    const reused = freshness.cached?.(repository, tag, plan.localDigest);
    const { value: result, lookupMs } = reused
      ? { value: reused, lookupMs: 0 }
      : await this.timed(() =>
          this.bounded(
            (signal) => freshness.check(repository, tag, plan.localDigest, signal).then((c) => c.result),
            cancelled,
            (timedOut): FreshnessResult =>
              timedOut ? { verdict: 'timeout' } : { verdict: 'error', code: 'cancelled' },
          ),
        );
    if (cancelled.aborted)
      return responseContinueReply({ outcome: 'pass', kind: 'manifest_by_tag', lookupMs });
    const url = result.verdict === 'newer' ? this.ctx.regionUrls.get(result.region) : undefined;
    const known = result.verdict !== 'newer' || url !== undefined;
    return this.answer(
      freshnessRecord(known ? result : { verdict: 'error', code: 'no_region_url' }, lookupMs),
      url,
    );
  }

  /**
   * A GET of a tag list that the local registry answered 200 or 404: its body is merged with the
   * siblings' tags. Every other status (a 401 or 403 above all: authorization is the local
   * registry's) passes as it is, and the matcher does not even send it here.
   */
  private tagListAsked(headers: Map<string, string>): StreamProcessor['tagList'] {
    const status = headers.get(HEADER.status);
    const req = this.request;
    if (!this.ctx.tagLists || !req || req.method !== 'GET' || req.redirected) return undefined;
    if (status !== OK && status !== NOT_FOUND) return undefined;
    const parsed = parseTagListRequest(req.path);
    if (!parsed || parsed.n === 0) return undefined;
    return { req: parsed, status, more: headers.has(HEADER.link) };
  }

  /** The local tag list's body: replaced by the union page when that says more. */
  private async onTagListBody(
    msg: ProcessingRequest__Output,
    cancelled: AbortSignal,
  ): Promise<ProcessingResponse> {
    const { req, status, more } = this.tagList as NonNullable<StreamProcessor['tagList']>;
    const body = msg.response_body;
    const pass = (reason: string) => this.answerBody(tagListRecord({ result: 'passed', reason }, 0));
    // Over Envoy's buffer limit the body arrives in part: it passes as the registry wrote it.
    if (!body?.end_of_stream) return pass('too_large');
    const local = readLocalAnswer(status, Buffer.from(body.body ?? []).toString('utf8'), req.repository);
    if (!local) return pass(status === NOT_FOUND ? 'not_name_unknown' : 'unreadable');
    const union = this.ctx.tagLists as NonNullable<StreamContext['tagLists']>;
    const ask = {
      req,
      local: { tags: local.tags, more },
      notFound: status === NOT_FOUND,
      ...(this.tagListAuthorization ? { authorization: this.tagListAuthorization } : {}),
      ...(this.client ? { client: this.client } : {}),
    };
    const reused = union.cached(ask);
    const { value: outcome, lookupMs } = reused
      ? { value: reused, lookupMs: 0 }
      : await this.timed(() =>
          this.bounded(
            (signal) => union.union(ask, signal),
            cancelled,
            (): UnionOutcome => ({ result: 'timeout' }),
            // A far sibling's listing takes its round trips: waited for as a pull's lookup is.
            this.ctx.locateTimeoutMs,
          ),
        );
    // Envoy cancelled the stream: the client left, which is no timeout of geosync's.
    if (cancelled.aborted)
      return this.answerBody(tagListRecord({ result: 'passed', reason: 'cancelled' }, lookupMs));
    switch (outcome.result) {
      case 'timeout':
        return this.answerBody(tagListRecord({ result: 'timeout' }, lookupMs));
      case 'shed':
        return this.answerBody(tagListRecord({ result: 'passed', reason: 'shed' }, lookupMs));
      case 'complete':
        return this.answerBody(tagListRecord({ result: 'complete' }, lookupMs, outcome.failed));
    }
    const { page } = outcome;
    const record = tagListRecord({ result: 'merged' }, lookupMs, outcome.failed);
    this.decide(record);
    return replaceBodyReply(
      {
        ...(status === NOT_FOUND ? { status: OK } : {}),
        contentType: 'application/json',
        body: tagListBody(req.repository, page.tags),
        link: page.next === undefined ? undefined : nextLink(req, page.next),
      },
      record,
    );
  }

  private answerBody(record: DecisionRecord): ProcessingResponse {
    this.decide(record);
    return bodyContinueReply(record);
  }

  /** `run`, traced as the stream's lookup, and how long it took. */
  private async timed<T>(run: () => Promise<T>): Promise<{ value: T; lookupMs: number }> {
    const started = this.ctx.clock.now();
    const value = this.trace ? await this.trace.lookup(run) : await run();
    return { value, lookupMs: this.ctx.clock.now() - started };
  }

  /** Records the decision and replies: a 307 to `url` when there is one, else the response as is. */
  private answer(record: DecisionRecord, url: string | undefined): ProcessingResponse {
    this.decide(record);
    if (url !== undefined && this.request)
      return redirectReply(redirectLocation(url, this.request.path), record);
    return responseContinueReply(record);
  }

  /** The locator, bounded by the lookup deadline and by Envoy cancelling the stream. */
  private async lookup(
    target: Parameters<Locator['locate']>[0],
    cancelled: AbortSignal,
  ): Promise<LocateResult> {
    return this.bounded(
      (signal) =>
        this.ctx.locator
          .locate(target, signal, this.client, this.authorization)
          .catch((err: unknown): LocateResult => ({
            outcome: 'error',
            code: `locator_threw:${(err as Error)?.name ?? 'unknown'}`,
          })),
      cancelled,
      (timedOut) => (timedOut ? TIMEOUT : CANCELLED),
      this.ctx.locateTimeoutMs,
    );
  }

  /**
   * `work` within `deadlineMs` (default the lookup deadline) and until Envoy cancels the stream
   * (src/abort/bounded.ts).
   */
  private bounded<T>(
    work: (signal: AbortSignal) => Promise<T>,
    cancelled: AbortSignal,
    interrupted: (timedOut: boolean) => T,
    deadlineMs = this.ctx.lookupTimeoutMs,
  ): Promise<T> {
    return bounded(this.ctx.clock, deadlineMs, cancelled, work, interrupted);
  }

  private captureMeta(rawRequestId: string | undefined, traceparent: string | undefined): void {
    // A client may send its own x-request-id: logs (JSON) and spans keep it as one bounded value.
    const requestId = rawRequestId?.slice(0, MAX_CLIENT_VALUE_LENGTH);
    this.meta = { ...(requestId ? { requestId } : {}), ...(traceparent ? { traceparent } : {}) };
    this.trace?.requestSeen(this.meta);
  }

  private decide(record: DecisionRecord): void {
    if (this.decided) return;
    this.decided = true;
    this.trace?.decided(record, this.classification);
    this.ctx.onDecision(record, {
      ...this.meta,
      ...(this.request ? { method: this.request.method } : {}),
      ...(this.classification ? { target: this.classification } : {}),
    });
  }
}

const PHASES: readonly Phase[] = [
  'request_headers',
  'response_headers',
  'request_body',
  'response_body',
  'request_trailers',
  'response_trailers',
];

/** The message kind: grpc-js sets the oneof name (`--oneofs`); fall back to the field that is set. */
export function phaseOf(msg: ProcessingRequest__Output): Phase | undefined {
  if (msg.request) return msg.request;
  return PHASES.find((p) => msg[p] !== undefined && msg[p] !== null);
}

/** Only a prefix is ever compared; a client-sent value is kept no longer than the others. */
function optionalUserAgent(ua: string | undefined): { userAgent?: string } {
  return ua === undefined ? {} : { userAgent: ua.slice(0, MAX_CLIENT_VALUE_LENGTH) };
}

/** Compared with `pushCheckBasicUsers` only; never logged or traced. */
function optionalBasicUser(value: string | undefined): { basicUser?: string } {
  const user = basicUser(value);
  return user === undefined ? {} : { basicUser: user };
}
