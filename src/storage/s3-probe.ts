/**
 * ObjectProbe over S3 (HeadObject, https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html,
 * and GetObject of links, https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html)
 * for registries on distribution's s3 driver. One client per region with a keep-alive agent, so a
 * probe inside a 150 ms deadline does not pay for a TCP (or TLS) handshake. The SDK does not retry
 * (`maxAttempts: 1`): a retry would land after the lookup deadline; the locator's breaker and the
 * next lookup are the retry. Every probe has its own timeout (`requestTimeoutMs`) and honours the
 * caller's signal; the answer is a value whatever happens underneath.
 */
import http from 'node:http';
import https from 'node:https';
import {
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import type { S3Storage } from '../config/types';
import { boundedRequest, listFolders } from './bounded-request';
import { objectKey } from './keys';
import {
  MAX_LINK_BYTES,
  type ListOptions,
  type ListResult,
  type ObjectProbe,
  type ProbeMiss,
  type ProbeResult,
  type ReadOptions,
  type ReadResult,
} from './probe';
import { classifyS3Error } from './s3-errors';

/** The SDK's own timeouts, as a multiple of requestTimeoutMs (see buildS3Client). */
const SDK_TIMEOUT_FACTOR = 10;

/** Sockets per region: above the per-region probe cap there is nothing to gain. */
const MAX_SOCKETS = 256;

export function buildS3Client(storage: S3Storage): S3Client {
  const agentOptions = { keepAlive: true, maxSockets: MAX_SOCKETS };
  return new S3Client({
    region: storage.region,
    ...(storage.endpoint ? { endpoint: storage.endpoint } : {}),
    forcePathStyle: storage.forcePathStyle,
    // A copy: the SDK annotates the credentials object it is given, and the configuration is frozen.
    ...(storage.credentials ? { credentials: { ...storage.credentials } } : {}),
    maxAttempts: 1,
    requestHandler: {
      // A backstop only: S3Probe.head ends a request at requestTimeoutMs itself, after reading an
      // answer that has already arrived. The SDK's own timers have no such grace, and on a busy
      // event loop they would fire first and turn an answer that is there into a timeout.
      requestTimeout: storage.requestTimeoutMs * SDK_TIMEOUT_FACTOR,
      connectionTimeout: storage.requestTimeoutMs * SDK_TIMEOUT_FACTOR,
      // Without it the SDK only logs a warning when the request timeout passes.
      throwOnRequestTimeout: true,
      httpAgent: new http.Agent(agentOptions),
      httpsAgent: new https.Agent(agentOptions),
    },
  });
}

export class S3Probe implements ObjectProbe {
  private readonly client: S3Client;

  constructor(
    readonly region: string,
    private readonly storage: S3Storage,
    /** Injected in tests to count or instrument requests; otherwise built from `storage`. */
    client?: S3Client,
  ) {
    this.client = client ?? buildS3Client(storage);
  }

  head(key: string, opts: { signal: AbortSignal }): Promise<ProbeResult> {
    return this.bounded(opts.signal, (signal) =>
      this.client
        .send(new HeadObjectCommand({ Bucket: this.storage.bucket, Key: this.objectKey(key) }), {
          abortSignal: signal,
        })
        .then((out): ProbeResult => ({ status: 'found', lastModified: out.LastModified ?? new Date(0) })),
    );
  }

  /** GetObject of a small object: its first `maxBytes` at most (a Range request). */
  read(key: string, opts: ReadOptions): Promise<ReadResult> {
    return this.bounded(opts.signal, async (signal): Promise<ReadResult> => {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.storage.bucket,
          Key: this.objectKey(key),
          Range: `bytes=0-${(opts.maxBytes ?? MAX_LINK_BYTES) - 1}`,
        }),
        { abortSignal: signal },
      );
      const text = (await out.Body?.transformToString('utf8')) ?? '';
      return { status: 'found', text, lastModified: out.LastModified ?? new Date(0) };
    });
  }

  /**
   * ListObjectsV2 with a `/` delimiter (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html):
   * the common prefixes are the folders, from `StartAfter` on. Pages until more than `max` names
   * or the end, each page bounded by `requestTimeoutMs`; s3:ListBucket, which geosync needs anyway
   * (check()).
   */
  list(prefix: string, opts: ListOptions): Promise<ListResult> {
    const full = this.objectKey(prefix);
    return listFolders(full, opts, (token, limit) =>
      this.bounded(opts.signal, async (signal) => {
        const out = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.storage.bucket,
            Prefix: full,
            Delimiter: '/',
            MaxKeys: limit,
            ...(token ? { ContinuationToken: token } : {}),
            ...(opts.startAfter !== undefined ? { StartAfter: full + opts.startAfter } : {}),
          }),
          { abortSignal: signal },
        );
        return {
          prefixes: (out.CommonPrefixes ?? []).map((p) => p.Prefix),
          next: out.IsTruncated ? out.NextContinuationToken : undefined,
        };
      }),
    );
  }

  private objectKey(key: string): string {
    return objectKey(this.storage.rootDirectory, key);
  }

  private bounded<R extends object>(
    signal: AbortSignal,
    send: (signal: AbortSignal) => Promise<R>,
  ): Promise<R | ProbeMiss> {
    return boundedRequest(this.storage.requestTimeoutMs, signal, send, classifyS3Error);
  }

  /**
   * HeadBucket (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html), which needs
   * s3:ListBucket: a 403 means wrong credentials or a policy without listing, and without listing
   * S3 answers HeadObject of a missing key with 403 instead of 404
   * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html, "Permissions").
   */
  async check(opts: { signal: AbortSignal }): Promise<string | undefined> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.storage.bucket }), {
        abortSignal: opts.signal,
      });
      return undefined;
    } catch (err) {
      const result = classifyS3Error(err);
      if (result.status === 'not_found') return `bucket "${this.storage.bucket}" does not exist`;
      if (result.status === 'error' && result.kind === 'denied') return this.deniedProblem(result.message);
      // Unreachable or slow now: the breaker and the metrics report that; not a configuration fault.
      return undefined;
    }
  }

  private deniedProblem(detail: string): string {
    const bucket = this.storage.bucket;
    return (
      `access to bucket "${bucket}" is denied (${detail}): wrong credentials, or a policy without ` +
      `s3:ListBucket, with which S3 answers 403 instead of 404 for every missing key (geosync then ` +
      `counts it as not there). geosync needs s3:ListBucket on arn:aws:s3:::${bucket} and ` +
      `s3:GetObject on arn:aws:s3:::${bucket}/*`
    );
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
