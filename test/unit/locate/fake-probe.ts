/**
 * A scripted ObjectProbe for the locator's unit tests: each key answers what the script says,
 * now, or when the test releases it, or never (until aborted). Counts every head() and read() per
 * key; read() answers like head() with the text set in `texts` (default ''); list() answers like
 * head() of the prefix with the names set in `listings` (default none).
 */
import type {
  ListOptions,
  ListResult,
  ObjectProbe,
  ProbeResult,
  ReadResult,
} from '../../../src/storage/probe';

export type Script = (key: string) => ProbeResult | 'hang' | 'manual';

export const FOUND: ProbeResult = {
  status: 'found',
  lastModified: new Date('2026-01-02T03:04:05Z'),
};
export const MISSING: ProbeResult = { status: 'not_found' };

export class FakeProbe implements ObjectProbe {
  readonly calls = new Map<string, number>();
  /** What read() returns for a key the script finds. */
  readonly texts = new Map<string, string>();
  /** What list() returns for a prefix the script finds. */
  readonly listings = new Map<string, string[]>();
  private readonly pending: { key: string; resolve: (r: ProbeResult) => void }[] = [];
  closed = false;

  constructor(
    readonly region: string,
    public script: Script,
  ) {}

  get total(): number {
    let n = 0;
    for (const c of this.calls.values()) n += c;
    return n;
  }

  head(key: string, opts: { signal: AbortSignal }): Promise<ProbeResult> {
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
    const answer = this.script(key);
    if (typeof answer === 'object') return Promise.resolve(answer);
    return new Promise<ProbeResult>((resolve) => {
      const onAbort = (): void => resolve({ status: 'error', kind: 'aborted', message: 'aborted' });
      if (opts.signal.aborted) return onAbort();
      opts.signal.addEventListener('abort', onAbort, { once: true });
      if (answer === 'manual') this.pending.push({ key, resolve });
    });
  }

  async read(key: string, opts: { signal: AbortSignal }): Promise<ReadResult> {
    const r = await this.head(key, opts);
    return r.status === 'found' ? { ...r, text: this.texts.get(key) ?? '' } : r;
  }

  async list(prefix: string, opts: ListOptions): Promise<ListResult> {
    const r = await this.head(prefix, opts);
    if (r.status === 'not_found') return { status: 'found', names: [] };
    return r.status === 'found'
      ? { status: 'found', names: (this.listings.get(prefix) ?? []).slice(0, opts.max) }
      : r;
  }

  /** Answers every probe waiting for release. */
  release(result: ProbeResult): void {
    for (const p of this.pending.splice(0)) p.resolve(result);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Lets promise callbacks run (the locator's work is a chain of them). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
