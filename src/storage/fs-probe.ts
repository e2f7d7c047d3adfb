/**
 * ObjectProbe over distribution's filesystem driver: `stat` under `<root>/docker/registry/v2`.
 * Keys come from storage/keys.ts and the OCI grammar, so they cannot contain `..`; the traversal
 * guard below still refuses any key that resolves outside the root, as defense in depth.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { untilAborted } from '../abort/until-aborted';
import { REGISTRY_V2_ROOT } from './keys';
import { probeError, type ObjectProbe, type ProbeResult } from './probe';

export class FsProbe implements ObjectProbe {
  private readonly base: string;

  constructor(
    readonly region: string,
    private readonly root: string,
  ) {
    this.base = path.resolve(root, REGISTRY_V2_ROOT);
  }

  async head(key: string, opts: { signal: AbortSignal }): Promise<ProbeResult> {
    if (opts.signal.aborted) return probeError('aborted', 'aborted before the probe started');
    const file = path.resolve(this.base, key);
    if (!file.startsWith(this.base + path.sep) || key.includes('\0')) {
      return probeError('denied', 'key resolves outside the storage root');
    }
    // A stat on a hung network mount never returns: answer at the caller's abort anyway (the
    // contract), so the locator's slots and breaker trials are released.
    return untilAborted(this.stat(file), opts.signal, () => probeError('aborted', 'lookup cancelled'));
  }

  private async stat(file: string): Promise<ProbeResult> {
    try {
      const s = await stat(file);
      if (!s.isFile()) return { status: 'not_found' };
      return { status: 'found', lastModified: s.mtime };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return { status: 'not_found' };
      if (code === 'EACCES' || code === 'EPERM') return probeError('denied', code);
      if (code === 'ENAMETOOLONG') return { status: 'not_found' };
      return probeError('unavailable', code ?? String(err));
    }
  }

  /** Undefined when the root is a readable directory, or when `stat` has not answered by the abort. */
  check(opts: { signal: AbortSignal }): Promise<string | undefined> {
    return untilAborted(this.checkRoot(), opts.signal, () => undefined);
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
