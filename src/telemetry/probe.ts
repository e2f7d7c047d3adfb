/**
 * An ObjectProbe decorator that traces every storage request as a child of the active lookup span
 * (metrics come from the locator's observer). The key is not recorded: it holds repository names
 * and digests.
 */
import { context, type Tracer } from '@opentelemetry/api';
import type { Digest } from '../oci/reference';
import type {
  ListOptions,
  ListResult,
  ObjectProbe,
  ProbeOptions,
  ProbeResult,
  ReadOptions,
  ReadResult,
} from '../storage/probe';
import { ATTR, SPANS } from './names';

export class TracedProbe implements ObjectProbe {
  /** Present when the inner probe has it (ObjectProbe.viaRegistryApi). */
  readonly readManifest?: (repository: string, digest: Digest, opts: ReadOptions) => Promise<ReadResult>;

  constructor(
    private readonly inner: ObjectProbe,
    private readonly tracer: Tracer,
  ) {
    const read = inner.readManifest?.bind(inner);
    if (read)
      this.readManifest = (repository, digest, opts) => this.traced(() => read(repository, digest, opts));
  }

  get region(): string {
    return this.inner.region;
  }

  get keysInTurn(): boolean | undefined {
    return this.inner.keysInTurn;
  }

  get queuesLocally(): boolean | undefined {
    return this.inner.queuesLocally;
  }

  get viaRegistryApi(): boolean | undefined {
    return this.inner.viaRegistryApi;
  }

  head(key: string, opts: ProbeOptions): Promise<ProbeResult> {
    return this.traced(() => this.inner.head(key, opts));
  }

  read(key: string, opts: ReadOptions): Promise<ReadResult> {
    return this.traced(() => this.inner.read(key, opts));
  }

  list(prefix: string, opts: ListOptions): Promise<ListResult> {
    return this.traced(() => this.inner.list(prefix, opts));
  }

  private async traced<R extends ProbeResult | ReadResult | ListResult>(
    request: () => Promise<R>,
  ): Promise<R> {
    const span = this.tracer.startSpan(
      SPANS.probe,
      {
        attributes: {
          [ATTR.region]: this.region,
          [ATTR.lookup]: this.inner.viaRegistryApi ? 'registry' : 'storage',
        },
      },
      context.active(),
    );
    let result: R | undefined;
    try {
      result = await request();
      return result;
    } finally {
      span.setAttribute(
        ATTR.result,
        !result ? 'threw' : result.status === 'error' ? result.kind : result.status,
      );
      span.end();
    }
  }

  /** The start-up check is the inner probe's own (not traced: it runs once, before any stream). */
  async check(opts: { signal: AbortSignal }): Promise<string | undefined> {
    return this.inner.check?.(opts);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
