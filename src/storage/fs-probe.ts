/**
 * ObjectProbe over distribution's filesystem driver: `stat` under `<root>/docker/registry/v2`.
 * Keys come from storage/keys.ts and the OCI grammar, so they cannot contain `..`; the traversal
 * guard below still refuses any key that resolves outside the root, as defense in depth.
 */
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { FsCalls } from './fs-calls';
import { REGISTRY_V2_ROOT } from './keys';
import {
  MAX_LINK_BYTES,
  byFolder,
  folderAfter,
  probeError,
  type ListOptions,
  type ListResult,
  type ObjectProbe,
  type ProbeMiss,
  type ProbeOptions,
  type ProbeResult,
  type ReadOptions,
  type ReadResult,
} from './probe';

export class FsProbe implements ObjectProbe {
  readonly keysInTurn = true;
  readonly queuesLocally = true;
  private readonly base: string;
  private readonly calls = new FsCalls();

  constructor(
    readonly region: string,
    private readonly root: string,
  ) {
    this.base = path.resolve(root, REGISTRY_V2_ROOT);
  }

  head(key: string, opts: ProbeOptions): Promise<ProbeResult> {
    return this.bounded(key, opts, (file) => this.stat(file));
  }

  read(key: string, opts: ReadOptions): Promise<ReadResult> {
    return this.bounded(key, opts, (file) => this.readSmall(file, opts.maxBytes ?? MAX_LINK_BYTES));
  }

  /** The sub-directories of `prefix` (distribution's filesystem driver lists a tag folder the same way). */
  list(prefix: string, opts: ListOptions): Promise<ListResult> {
    return this.bounded(prefix, opts, async (dir): Promise<ListResult> => {
      try {
        const entries = await readdir(dir, { withFileTypes: true });
        const names = entries
          .filter((e) => e.isDirectory() && folderAfter(e.name, opts.startAfter))
          .map((e) => e.name)
          .sort(byFolder);
        return names.length > opts.max
          ? { status: 'found', names: names.slice(0, opts.max), more: true }
          : { status: 'found', names };
      } catch (err) {
        const miss = this.failure(err);
        return miss.status === 'not_found' ? { status: 'found', names: [] } : miss;
      }
    });
  }

  private bounded<R extends ProbeResult | ReadResult | ListResult>(
    key: string,
    { signal, onDispatch }: ProbeOptions,
    io: (file: string) => Promise<R>,
  ): Promise<R | ProbeMiss> {
    if (signal.aborted) return Promise.resolve(probeError('aborted', 'aborted before the probe started'));
    const file = path.resolve(this.base, key);
    if (!file.startsWith(this.base + path.sep) || key.includes('\0')) {
      return Promise.resolve(probeError('denied', 'key resolves outside the storage root'));
    }
    // I/O on a hung network mount never returns: answer at the caller's abort anyway (the
    // contract), so the locator's slots and breaker trials are released; and never let this
    // root's calls take more than their share of the threadpool (fs-calls.ts).
    return this.calls.run(
      () => io(file),
      signal,
      () => probeError('aborted', 'lookup cancelled'),
      onDispatch,
    );
  }

  private async readSmall(file: string, maxBytes: number): Promise<ReadResult> {
    try {
      const handle = await open(file, 'r');
      try {
        const s = await handle.stat();
        if (!s.isFile()) return { status: 'not_found' };
        const buffer = Buffer.alloc(Math.min(s.size, maxBytes));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
        return {
          status: 'found',
          text: buffer.subarray(0, bytesRead).toString('utf8'),
          lastModified: s.mtime,
        };
      } finally {
        await handle.close();
      }
    } catch (err) {
      return this.failure(err);
    }
  }

  private async stat(file: string): Promise<ProbeResult> {
    try {
      // A miss is the common answer under a herd of new content: `throwIfNoEntry: false` (Node
      // 24.15+/25.7+, https://nodejs.org/api/fs.html#fspromisesstatpath-options) answers ENOENT
      // and ENOTDIR without building an Error and its stack; an older Node ignores it and
      // throws, which failure() reads the same.
      const s = await stat(file, { throwIfNoEntry: false });
      if (!s?.isFile()) return { status: 'not_found' };
      return { status: 'found', lastModified: s.mtime };
    } catch (err) {
      return this.failure(err);
    }
  }

  private failure(err: unknown): ProbeMiss {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'ENAMETOOLONG') {
      return { status: 'not_found' };
    }
    if (code === 'EACCES' || code === 'EPERM') return probeError('denied', code);
    return probeError('unavailable', code ?? String(err));
  }

  /** Undefined when the root is a readable directory, or when `stat` has not answered by the abort. */
  check(opts: { signal: AbortSignal }): Promise<string | undefined> {
    return this.calls.run(
      () => this.checkRoot(),
      opts.signal,
      () => undefined,
    );
  }

  private async checkRoot(): Promise<string | undefined> {
    try {
      const s = await stat(this.root);
      return s.isDirectory() ? undefined : `storage root ${this.root} is not a directory`;
    } catch (err) {
      return `storage root ${this.root} is not readable (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
    }
  }

  async close(): Promise<void> {}
}
