/** How part 4's clients behave: a pull retried until it succeeds, a tag asked for until it moves. */
import { sleep } from '../../support/process';
import { MANIFEST_ACCEPT } from '../context';

export interface FirstSuccess {
  /** From the start of the timeline to the end of the first pull that succeeded. */
  readonly ms: number;
  readonly attempts: number;
}

/** `pull` until it resolves, sleeping `sleepMs` after each failure (a pipeline's retry loop). */
export async function firstSuccess(
  pull: () => Promise<unknown>,
  t0: number,
  sleepMs: number,
  deadlineMs: number,
): Promise<FirstSuccess> {
  for (let attempts = 1; ; attempts++) {
    try {
      await pull();
      return { ms: performance.now() - t0, attempts };
    } catch (err) {
      if (performance.now() - t0 > deadlineMs) {
        throw new Error(`no successful pull within ${deadlineMs} ms: ${(err as Error).message}`, {
          cause: err,
        });
      }
      await sleep(sleepMs);
    }
  }
}

/** The digest `host` serves for `repository:tag` now (a manifest GET, as a client resolves a tag). */
export async function digestServed(
  host: string,
  repository: string,
  tag: string,
): Promise<string | undefined> {
  try {
    const res = await fetch(`http://${host}/v2/${repository}/manifests/${tag}`, {
      headers: MANIFEST_ACCEPT,
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer();
    return res.status === 200
      ? (res.headers.get('docker-content-digest') ?? undefined)
      : `HTTP ${res.status}`;
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

export interface TagWatch {
  /** What the approach served at the first ask after the tag moved. */
  readonly first: string | undefined;
  /** ms from `t0` until it served `digest`; NaN if it never did before the deadline. */
  readonly freshMs: number;
}

/** Asks for the tag every 250 ms from now until `host` serves `digest`. */
export async function watchTag(
  host: string,
  repository: string,
  tag: string,
  digest: string,
  t0: number,
  deadlineMs: number,
): Promise<TagWatch> {
  let first: string | undefined;
  let asked = false;
  while (performance.now() - t0 < deadlineMs) {
    const served = await digestServed(host, repository, tag);
    if (!asked) [first, asked] = [served, true];
    if (served === digest) return { first, freshMs: performance.now() - t0 };
    await sleep(250);
  }
  return { first, freshMs: NaN };
}
