/**
 * Runs the shipped reference replicator (deploy/replication/replicate.sh: skopeo sync through the
 * registry API) from one registry to another, over plain HTTP on loopback.
 */
import path from 'node:path';
import { ROOT } from '../clients/geosync-cli';
import { run } from '../process';

export const REPLICATE_SCRIPT = path.join(ROOT, 'deploy/replication/replicate.sh');

/** `replicate.sh SOURCE DEST [REPOSITORY...]`; resolves with its output, rejects when it fails. */
export async function runReplicator(
  source: string,
  dest: string,
  repositories: readonly string[] = [],
  timeoutMs = 60_000,
): Promise<string> {
  const { stdout, stderr } = await run('bash', [REPLICATE_SCRIPT, source, dest, ...repositories], {
    timeoutMs,
    env: { ...process.env, SRC_TLS_VERIFY: 'false', DEST_TLS_VERIFY: 'false' },
  });
  return stdout + stderr;
}
