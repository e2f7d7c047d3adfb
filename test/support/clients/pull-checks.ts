/**
 * Checks of pulls by real clients, for jest files only (they use `expect`). The clients
 * themselves are in oci-clients.ts, which the benchmark and the demo build import too.
 */
import { containerdClient, type Env } from './oci-clients';

/**
 * containerd's resolver pulls `<repository>:v1` and `<repository>-digest@<digest>` from `host`,
 * first pulls each: both name `digest` (the digest pull resolves no tag first).
 */
export async function expectContainerdPulls(host: string, repository: string, digest: string, env: Env) {
  const byTag = await containerdClient(['pull', `${host}/${repository}:v1`], env);
  expect(byTag.stdout).toContain(digest);
  const byDigest = await containerdClient(['pull', `${host}/${repository}-digest@${digest}`], env);
  expect(byDigest.stdout).toContain(digest);
}
