/** What every part of the benchmark is given: its scale, the load generator, scratch space, a log. */
import { MANIFEST_ACCEPT as CLIENT_MANIFEST_ACCEPT } from '../support/oci/oci-image';
import type { BenchScale } from './scale';
import type { Vegeta } from './tools/vegeta';

export interface BenchContext {
  readonly scale: BenchScale;
  readonly vegeta: Vegeta;
  /** A scratch directory, removed after the run. */
  readonly tmp: string;
  /** Progress, to stderr (the results go to files). */
  readonly log: (line: string) => void;
}

/** What OCI clients send with a manifest GET. */
export const MANIFEST_ACCEPT = { accept: CLIENT_MANIFEST_ACCEPT };

export function elapsedSeconds(startedMs: number): number {
  return (performance.now() - startedMs) / 1000;
}
