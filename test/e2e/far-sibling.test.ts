/**
 * A sibling on another continent, with geosync's defaults, pulled through with every real client:
 * regions a and b on Swift S3, every cross-region hop (b's Envoy to a's, b's geosync to a's
 * storage) delayed 125 ms each way (a 250 ms round trip), no auth. Each client pulls a new
 * repository that only a holds, through b, once: skopeo, crane, regctl, oras and containerd's
 * resolver each send their own requests (manifest HEADs by tag and by digest, GETs of the
 * manifest, config and layers), and every one is rescued on its first pull, its content re-hashed.
 * What it cannot show: a WAN's loss and jitter (the delay is steady); auth (clients.test.ts and
 * auth.test.ts cover token and Basic at no distance).
 */
import path from 'node:path';
import { createOciImage, type OciImage } from '../support/oci/oci-image';
import { clientHome, type Env } from '../support/clients/oci-clients';
import { expectContainerdPulls } from '../support/clients/pull-checks';
import { skopeoPush } from '../support/clients/skopeo';
import { pullIntoLayout } from '../support/oci/layouts';
import { decisions } from '../support/stacks/region-checks';
import { useDeployment } from '../support/stacks/use-deployment';

jest.setTimeout(300_000);

let home: { env: Env; remove(): void };
let image: OciImage;

const { a, b, tmp } = useDeployment({
  regions: ['a', 'b'],
  storage: 's3',
  crossRegionLatencyMs: 125,
});
beforeAll(() => {
  home = clientHome();
  image = createOciImage(path.join(tmp.make('far'), 'src'), { tag: 'v1', layerSizes: [3000, 7000] });
});
afterAll(() => home?.remove());

async function onlyInA(repository: string): Promise<void> {
  await skopeoPush(image.dir, 'v1', { host: a.host, repository });
}

test.each(['skopeo', 'crane', 'regctl', 'oras'] as const)(
  '%s: the first pull through b of a new image only a holds is rescued',
  async (client) => {
    const repository = `far/${client}`;
    await onlyInA(repository);
    const timeoutsBefore = await decisions(b, 'timeout');
    await pullIntoLayout(client, { host: b.host, repository }, tmp.make(`far-${client}`), image, home.env);
    // Rescued within each lookup's deadline, not on a client's retry after one timed out.
    expect(await decisions(b, 'timeout')).toBe(timeoutsBefore);
  },
);

test("containerd's resolver: the tag and the digest, first pulls, rescued", async () => {
  const repository = 'far/containerd';
  await onlyInA(repository);
  await onlyInA(`${repository}-digest`);
  await expectContainerdPulls(b.host, repository, image.manifestDigest, home.env);
});
