/** A whole image pull by a real OCI client (skopeo), timed and checked. */
import fs from 'node:fs';
import path from 'node:path';
import { skopeoPull } from '../../support/clients/skopeo';

/**
 * Pulls `<repository>:<reference>` from `host` into a fresh OCI layout under `dir` and returns how
 * long skopeo took; rejects unless the manifest it stored is `manifestDigest` (skopeo itself
 * checks every blob against its digest while copying). The layout is removed afterwards.
 */
export async function timedPull(
  host: string,
  src: { readonly repository: string; readonly reference: string },
  manifestDigest: string,
  dir: string,
): Promise<number> {
  const out = fs.mkdtempSync(path.join(dir, 'pull-'));
  try {
    const started = performance.now();
    await skopeoPull({ host, ...src }, out, { destTag: 'pulled', timeoutMs: 300_000 });
    const ms = performance.now() - started;
    const index = JSON.parse(fs.readFileSync(path.join(out, 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    const got = index.manifests[0]?.digest;
    if (got !== manifestDigest) throw new Error(`pulled ${got} from ${host}, expected ${manifestDigest}`);
    return ms;
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}
