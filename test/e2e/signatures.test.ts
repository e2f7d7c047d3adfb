/**
 * Signatures and attestations are bounded-stale with geosync's defaults: an image both regions
 * hold is given a second attachment in a, and `oras discover` through b's Envoy lists it at once,
 * before replication. distribution has no referrers API, so oras falls back to the OCI referrers
 * tag schema (an index tagged `sha256-<hex>`, re-pointed by every attach): a local 200 in b that
 * geosync checks against the siblings' tag history (freshness.signatureTagMaxStalenessMs, on by
 * default). The referrers API's own 404 passes unchanged: it is what makes clients fall back.
 *
 * Signers built here: oras, and cosign v2 (its `sha256-<hex>.sig` tags: a key rotated in a
 * verifies through b at once). notation could not be built: the Go module proxy refuses its CLI
 * module (github.com/notaryproject/notation, 403); it writes the referrers tag schema's index on a
 * registry without the referrers API, as oras does here.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RegionDeployment } from '../support/stacks/deployment';
import { createOciImage } from '../support/oci/oci-image';
import { clientHome, oras, toolPath, type Env } from '../support/clients/oci-clients';
import { run } from '../support/process';
import { skopeoPush } from '../support/clients/skopeo';
import { decisions, registryRequest } from '../support/stacks/region-checks';
import { useDeployment } from '../support/stacks/use-deployment';

jest.setTimeout(180_000);

const { a, b, tmp } = useDeployment({ regions: ['a', 'b'], storage: 'filesystem' });
let home: { env: Env; remove(): void };
beforeAll(() => {
  home = clientHome();
});
afterAll(() => home?.remove());

const REPO = 'signed/app';

async function attach(host: string, ref: string, name: string): Promise<void> {
  const dir = tmp.make(`attach-${name}`);
  fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ name }));
  await oras(
    [
      'attach',
      '--plain-http',
      '--artifact-type',
      `application/vnd.geosync.test.${name}`,
      `${host}/${ref}`,
      `${name}.json`,
    ],
    home.env,
    dir,
  );
}

/** The artifact types `oras discover` lists for the image, through `region`'s Envoy. */
async function discovered(region: RegionDeployment, ref: string): Promise<string[]> {
  const out = await oras(['discover', '--plain-http', '--format', 'json', `${region.host}/${ref}`], home.env);
  const tree = JSON.parse(out.stdout) as {
    referrers?: { artifactType: string }[];
    manifests?: { artifactType: string }[];
  };
  return (tree.referrers ?? tree.manifests ?? []).map((r) => r.artifactType).sort();
}

test('an attachment added in a is discovered through b at once; the referrers API 404 passes as it is', async () => {
  const image = createOciImage(path.join(tmp.make('image'), 'src'), { tag: 'v1', layerSizes: [2000] });
  // Both regions hold the image (as after replication).
  await skopeoPush(image.dir, 'v1', { host: a.host, repository: REPO });
  await skopeoPush(image.dir, 'v1', { host: b.host, repository: REPO });
  const ref = `${REPO}@${image.manifestDigest}`;
  const schemaTag = `sha256-${image.manifestDigest.slice('sha256:'.length)}`;

  // The first attachment, in a, then replicated to b's registry directly (not through its Envoy).
  await attach(a.host, ref, 'sbom');
  await oras(
    [
      'cp',
      '-r',
      '--from-plain-http',
      '--to-plain-http',
      `${a.registry.host}/${REPO}:${schemaTag}`,
      `${b.registry.host}/${REPO}:${schemaTag}`,
    ],
    home.env,
  );
  // (Asked of b's registry directly: through b's Envoy, the answer would be reused for up to T, the
  // signature tags' bound, and the next step would be inside it.)
  const bRegistry = { ...b, host: b.registry.host } as RegionDeployment;
  expect(await discovered(bRegistry, ref)).toEqual(['application/vnd.geosync.test.sbom']);

  // A second one in a only: a re-points the tag; b's registry still holds the first index.
  await attach(a.host, ref, 'sig');
  const fresher = await decisions(b, 'fresher');
  expect(await discovered(b, ref)).toEqual([
    'application/vnd.geosync.test.sbom',
    'application/vnd.geosync.test.sig',
  ]);
  expect(await decisions(b, 'fresher')).toBeGreaterThan(fresher);
  // b's own registry was not written: it still lists the first attachment only.
  expect(await discovered(bRegistry, ref)).toEqual(['application/vnd.geosync.test.sbom']);

  // The referrers API: distribution has none, and its 404 reaches the client exactly.
  const direct = await fetch(`${b.registry.url}/v2/${REPO}/referrers/${image.manifestDigest}`);
  const viaEnvoy = await registryRequest(b, `/v2/${REPO}/referrers/${image.manifestDigest}`);
  expect(viaEnvoy.status).toBe(404);
  expect(viaEnvoy.status).toBe(direct.status);
  expect(viaEnvoy.body.toString()).toBe(await direct.text());
});

/** `cosign ARGS` offline: keys made here, no transparency log, plain-HTTP registries. */
async function cosign(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(toolPath('cosign'), args, {
    timeoutMs: 90_000,
    env: { ...home.env, COSIGN_PASSWORD: '', COSIGN_YES: 'true' },
    cwd: keys,
  });
}

let keys: string;
test('a signature re-made in a with a new key verifies through b at once (cosign, .sig tags)', async () => {
  keys = tmp.make('cosign-keys');
  await cosign(['generate-key-pair', '--output-key-prefix', 'old']);
  await cosign(['generate-key-pair', '--output-key-prefix', 'new']);
  const image = createOciImage(path.join(tmp.make('cosign-image'), 'src'), { tag: 'v1', layerSizes: [1500] });
  const repo = 'signed/cosign';
  // Both regions hold the image (as after replication).
  await skopeoPush(image.dir, 'v1', { host: a.host, repository: repo });
  await skopeoPush(image.dir, 'v1', { host: b.host, repository: repo });
  const at = (host: string) => `${host}/${repo}@${image.manifestDigest}`;
  const sign = (key: string) =>
    cosign(['sign', '--key', `${key}.key`, '--tlog-upload=false', '--allow-http-registry', at(a.host)]);
  const verify = (host: string, key: string) =>
    cosign([
      'verify',
      '--key',
      `${key}.pub`,
      '--insecure-ignore-tlog=true',
      // Both: verify reads the registry's plain HTTP only when insecure connections are allowed too.
      '--allow-insecure-registry',
      '--allow-http-registry',
      at(host),
    ]);

  // The first signature, in a only: b has no .sig tag yet, and geosync rescues its 404.
  await sign('old');
  await verify(b.host, 'old');
  // Replication brings the .sig tag to b's registry.
  const sigTag = `sha256-${image.manifestDigest.slice('sha256:'.length)}.sig`;
  await oras(
    [
      'cp',
      '--from-plain-http',
      '--to-plain-http',
      `${a.registry.host}/${repo}:${sigTag}`,
      `${b.registry.host}/${repo}:${sigTag}`,
    ],
    home.env,
  );
  // Key rotation in a: cosign re-points the .sig tag to a manifest that also holds the new
  // signature. b's registry still serves the old one: verifying there with the new key fails ...
  await sign('new');
  await expect(verify(b.registry.host, 'new')).rejects.toThrow(/no matching signatures/);
  // ... and through b's Envoy it passes at once, before replication (signature tags are checked
  // for freshness by default).
  const fresher = await decisions(b, 'fresher');
  await verify(b.host, 'new');
  expect(await decisions(b, 'fresher')).toBeGreaterThan(fresher);
});
