/**
 * S3 failures normalised at the edge into the probe contract's values, so that nothing above
 * storage/ knows the SDK's error shapes. HeadObject answers carry no body, so the HTTP status is
 * what tells outcomes apart (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html):
 * 404 not found, 403 denied, 503 "Slow Down" (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html)
 * and 429 throttled; other 5xx and broken connections mean the storage is unavailable.
 */
import { UNAVAILABLE_CODES } from './bounded-request';
import { probeError, type ProbeMiss } from './probe';

const NOT_FOUND_NAMES = new Set(['NotFound', 'NoSuchKey', 'NoSuchBucket']);
const THROTTLED_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequests',
  'RequestLimitExceeded',
]);
const DENIED_NAMES = new Set(['AccessDenied', 'Forbidden', 'InvalidAccessKeyId', 'SignatureDoesNotMatch']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'TimeoutError', 'RequestTimeout']);

/**
 * The SDK wraps a thrown value that is not an `Error` of its own realm ("AWS SDK error wrapper for
 * Error: connect ECONNREFUSED ...", e.g. under jest's VM contexts) and drops its `code`; the code is
 * then only in the message.
 */
function codeInMessage(message: string): string {
  const m = /\b(E[A-Z_]{3,}|UND_ERR_[A-Z_]+)\b/.exec(message);
  return m?.[1] ?? '';
}

interface SdkLikeError {
  readonly name?: string;
  readonly code?: string;
  readonly message?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly cause?: unknown;
}

/** Classifies an error thrown by HeadObject or GetObject. `not_found` is a value, not an error. */
export function classifyS3Error(err: unknown): ProbeMiss {
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkLikeError;
  const name = e.name ?? '';
  const code = e.code ?? (e.cause as SdkLikeError | undefined)?.code ?? codeInMessage(e.message ?? '');
  const status = e.$metadata?.httpStatusCode;
  const message = e.message || name || String(err);

  if (name === 'AbortError') return probeError('aborted', message);
  if (status === 404 || NOT_FOUND_NAMES.has(name)) return { status: 'not_found' };
  if (status === 403 || status === 401 || DENIED_NAMES.has(name)) return probeError('denied', message);
  if (status === 429 || status === 503 || THROTTLED_NAMES.has(name)) return probeError('throttled', message);
  if (TIMEOUT_CODES.has(name) || TIMEOUT_CODES.has(code)) return probeError('timeout', message);
  if (status !== undefined && status >= 500) return probeError('unavailable', `HTTP ${status}: ${message}`);
  if (UNAVAILABLE_CODES.has(code) || UNAVAILABLE_CODES.has(name))
    return probeError('unavailable', `${code || name}: ${message}`);
  return probeError('internal', message);
}
