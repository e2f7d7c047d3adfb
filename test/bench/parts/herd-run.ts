/**
 * One herd: N clients pull the same image through one region's Envoy at the same moment. As a
 * deploy does on N nodes: every client asks for the manifest at once (one vegeta burst of N
 * GETs), then every client fetches the config and layers (a burst of N × blobs GETs, N in flight).
 * A request fails unless it is answered 200 with the Docker-Content-Digest it asked for.
 */
import { MANIFEST_ACCEPT, type BenchContext } from '../context';
import { summarize, type LatencySummary } from '../tools/stats';
import type { HttpTarget, RequestResult } from '../tools/vegeta';

export interface HerdImage {
  readonly repository: string;
  readonly tag: string;
  readonly manifestDigest: string;
  /** Config and layers. */
  readonly blobs: readonly string[];
}

export interface HerdRun {
  readonly latenciesMs: number[];
  readonly latency: LatencySummary;
  readonly wallMs: number;
  /** A pull fails when any of its requests does: failed pulls ≤ failed requests. */
  readonly failedRequests: number;
  readonly failures: Readonly<Record<string, number>>;
}

export async function runHerd(
  ctx: BenchContext,
  base: string,
  image: HerdImage,
  n: number,
): Promise<HerdRun> {
  const manifest: HttpTarget = {
    method: 'GET',
    url: `${base}/v2/${image.repository}/manifests/${image.tag}`,
    headers: MANIFEST_ACCEPT,
  };
  const blobs: HttpTarget[] = image.blobs.map((d) => ({
    method: 'GET',
    url: `${base}/v2/${image.repository}/blobs/${d}`,
  }));
  const started = performance.now();
  const wave1 = await ctx.vegeta.burst(
    Array.from({ length: n }, () => manifest),
    n,
  );
  const wave2 = await ctx.vegeta.burst(Array.from({ length: n }, () => blobs).flat(), n);
  const wallMs = performance.now() - started;
  const all = [...wave1.results, ...wave2.results];
  const failures: Record<string, number> = {};
  for (const r of all) {
    const why = failure(r, image.manifestDigest);
    if (why) failures[why] = (failures[why] ?? 0) + 1;
  }
  const latenciesMs = all.map((r) => r.latencyMs);
  return {
    latenciesMs,
    latency: summarize(latenciesMs),
    wallMs,
    failedRequests: Object.values(failures).reduce((a, b) => a + b, 0),
    failures,
  };
}

/** Why a herd response is a failure, or undefined. */
function failure(r: RequestResult, manifestDigest: string): string | undefined {
  if (r.code !== 200) return r.code === 0 ? `error: ${r.error.replace(/.*: /, '')}` : `HTTP ${r.code}`;
  const expected = r.url.includes('/manifests/') ? manifestDigest : r.url.slice(r.url.lastIndexOf('/') + 1);
  return r.digest === expected ? undefined : 'wrong Docker-Content-Digest';
}

export interface AbsentRun {
  readonly latency: LatencySummary;
  readonly wallMs: number;
  /** Answers other than the 404 the tag deserves. */
  readonly unexpected: Readonly<Record<string, number>>;
}

/**
 * N clients ask at once for a tag no region holds (a deploy of a tag not pushed yet, a typo, a
 * pipeline polling until its image exists): one vegeta burst of N manifest GETs. Each must be
 * answered 404.
 */
export async function runAbsentHerd(
  ctx: BenchContext,
  base: string,
  repository: string,
  n: number,
): Promise<AbsentRun> {
  const target: HttpTarget = {
    method: 'GET',
    url: `${base}/v2/${repository}/manifests/absent`,
    headers: MANIFEST_ACCEPT,
  };
  const started = performance.now();
  const wave = await ctx.vegeta.burst(
    Array.from({ length: n }, () => target),
    n,
  );
  const wallMs = performance.now() - started;
  const unexpected: Record<string, number> = {};
  for (const r of wave.results) {
    if (r.code === 404) continue;
    const why = r.code === 0 ? `error: ${r.error.replace(/.*: /, '')}` : `HTTP ${r.code}`;
    unexpected[why] = (unexpected[why] ?? 0) + 1;
  }
  return { latency: summarize(wave.results.map((r) => r.latencyMs)), wallMs, unexpected };
}
