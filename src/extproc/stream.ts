/**
 * One ext_proc stream = one upstream request to the local registry. The processor remembers what
 * the request was (from request headers, or from `response_attributes` when Envoy skips them),
 * chooses the one feature that answers it once the response's status is known (the 404 rescue,
 * tag freshness, the tag-list union), and turns that handler's plan into exactly one reply of the
 * matching kind per message.
 * Protocol: envoy/service/ext_proc/v3/external_processor.proto; Envoy waits for one reply per
 * message within `message_timeout`, so every path below ends in a reply or a clean stream end.
 */
import type { DecisionRecord } from '../decide/decision';
import { classify, planResponse, redirectLocation } from '../decide/decision';
import type { ProcessingRequest__Output } from '../generated/envoy/service/ext_proc/v3/ProcessingRequest';
import type { ProcessingResponse } from '../generated/envoy/service/ext_proc/v3/ProcessingResponse';
import type { Classification, PullRequestInfo } from '../oci/pull';
import { basicUser } from '../oci/basic-user';
import { pushRepositories } from '../oci/push-access';
import { parseTagListRequest } from '../tag-list/page';
import type { Plan, StreamContext, StreamScope, StreamTrace } from './context';
import { fresher } from './fresher';
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
import { rescue } from './rescue';
import { mergeTagList, tagListAsked, type TagListAsked } from './tag-list';

export type { RequestMeta, StreamContext, StreamTrace } from './context';

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
  /** Who asks and with which credentials (context.ts): never logged, traced or put in a record. */
  private asker: Pick<StreamScope, 'client' | 'authorization' | 'tagListAuthorization'> = {};
  /** One HTTP request per stream, so one decision per stream. */
  private decided = false;
  /** A tag list whose body Envoy was asked to send (src/tag-list/). */
  private tagList?: TagListAsked;

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
      case 'response_body': {
        if (!this.tagList) return { reply: continueReply(phase) };
        const body = msg.response_body;
        // Over Envoy's buffer limit the body arrives in part (no end_of_stream).
        const text = body?.end_of_stream ? Buffer.from(body.body ?? []).toString('utf8') : undefined;
        const plan = await mergeTagList(this.scope(cancelled), this.tagList, text);
        this.record(plan);
        return {
          reply: plan.replace ? replaceBodyReply(plan.replace, plan.record) : bodyContinueReply(plan.record),
          last: true,
        };
      }
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
    if (parseTagListRequest(this.request.path))
      this.asker = { tagListAuthorization: headers.get(HEADER.authorization) };
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
    if (!this.request) this.requestFromAttributes(msg);
    const status = headers.get(HEADER.status);
    this.tagList = tagListAsked(this.ctx, this.request, status, headers.has(HEADER.link));
    if (this.tagList) return bufferResponseBodyReply();
    const freshness = this.ctx.freshness;
    const plan = planResponse(this.classification ?? classify(undefined), {
      status,
      contentDigest: headers.get(HEADER.contentDigest),
      ...(freshness ? { checksTag: (tag: string) => freshness.checks(tag) } : {}),
    });
    if (plan.action === 'continue') {
      this.decide(plan.record);
      return responseContinueReply(plan.record);
    }
    const answer =
      plan.action === 'freshness'
        ? await fresher(this.scope(cancelled), plan.target, plan.localDigest)
        : await rescue(this.scope(cancelled), plan.classification.target);
    this.record(answer);
    if (answer.redirectTo !== undefined && this.request)
      return redirectReply(redirectLocation(answer.redirectTo, this.request.path), answer.record);
    return responseContinueReply(answer.record);
  }

  /**
   * Request headers are skipped (the generated configuration): the request comes from the
   * `response_attributes` of this first and only message.
   */
  private requestFromAttributes(msg: ProcessingRequest__Output): void {
    const attrs = readAttributes(msg.attributes);
    this.captureMeta(attrs.get(ATTRIBUTE.requestId), attrs.get(ATTRIBUTE.traceparent));
    const client = clientAddress(attrs.get(ATTRIBUTE.sourceAddress));
    this.asker = { client };
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
      this.asker = {
        client,
        // '' for every request but a tag list (the attribute's CEL conditional); absent: no header.
        tagListAuthorization: attrs.get(ATTRIBUTE.tagListAuthorization) || undefined,
        authorization: attrs.get(ATTRIBUTE.bearer) || undefined,
      };
    }
    this.classification = classify(this.request, this.ctx.pullPolicy);
  }

  /** This stream as a handler sees it. */
  private scope(cancelled: AbortSignal): StreamScope {
    return { ctx: this.ctx, trace: this.trace, cancelled, ...this.asker };
  }

  /** A handler's plan is recorded unless Envoy cancelled the stream (then no reply is read). */
  private record(plan: Plan): void {
    if (plan.decided) this.decide(plan.record);
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
