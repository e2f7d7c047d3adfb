/**
 * With tag freshness on (`freshness.tagMaxStalenessMs` > 0), real Envoy (newest and oldest
 * supported release) also asks geosync about the registry's 200s of manifests by tag, and only
 * those: a 200 of a manifest by digest, of a blob, or any other status but 404 still costs no
 * round trip. With the defaults, only 200s of signature and attestation tags reach geosync; with
 * both bounds 0, no 200 does.
 */
import type { EnvoyRelease } from '../../support/envoy/envoy';
import { content } from '../../support/http-fakes';
import { attributesOf, headerOf } from '../../support/clients/scripted-processor';
import { get, startStack, type Stack } from '../../support/stacks/envoy-stack';

jest.setTimeout(60_000);

const DIGEST = `sha256:${'d'.repeat(64)}`;
/** The referrers tag schema's tag of an image (cosign adds .sig, .att, .sbom). */
const REFERRERS = `sha256-${'d'.repeat(64)}`;
const RELEASES: EnvoyRelease[] = ['newest', 'oldest'];

/** Everything exists locally: every request is answered 200. */
const registry = content('local manifest', 'sha256:local');

async function asked(s: Stack, method: string, p: string): Promise<boolean> {
  const before = s.processor.streams.length;
  const res = await get(`${s.url}${p}`, { method });
  expect(res.status).toBe(200);
  return s.processor.streams.length > before;
}

describe.each(RELEASES)('Envoy %s', (release) => {
  test('freshness on: 200s of manifests by tag reach geosync, nothing else that is a 200', async () => {
    const s = await startStack({
      release,
      registry,
      tagMaxStalenessMs: 5000,
      // Answers every message with a plain CONTINUE: the local 200 passes.
      script: () => (_m, st) => st.call.write({ response_headers: {} }),
    });
    try {
      expect(await asked(s, 'GET', '/v2/team/app/manifests/prod')).toBe(true);
      expect(await asked(s, 'HEAD', '/v2/team/app/manifests/v1.2.3-rc_1?ns=docker.io')).toBe(true);
      const m = s.processor.streams.at(-1)!.messages[0]!;
      expect(headerOf(m, ':status')).toBe('200');
      expect(headerOf(m, 'docker-content-digest')).toBe('sha256:local');
      expect(attributesOf(m)['request.method']).toBe('HEAD');
      expect(await asked(s, 'GET', `/v2/team/app/manifests/${DIGEST}`)).toBe(false);
      expect(await asked(s, 'GET', `/v2/team/app/blobs/${DIGEST}`)).toBe(false);
    } finally {
      await s.close();
    }
  });

  test('defaults: only 200s of signature and attestation tags reach geosync', async () => {
    const s = await startStack({
      release,
      registry,
      script: () => (_m, st) => st.call.write({ response_headers: {} }),
    });
    try {
      expect(await asked(s, 'GET', '/v2/team/app/manifests/prod')).toBe(false);
      expect(await asked(s, 'HEAD', '/v2/team/app/manifests/prod')).toBe(false);
      expect(await asked(s, 'GET', `/v2/team/app/manifests/${REFERRERS}`)).toBe(true);
      expect(await asked(s, 'HEAD', `/v2/team/app/manifests/${REFERRERS}.sig?ns=docker.io`)).toBe(true);
      expect(await asked(s, 'GET', `/v2/team/app/manifests/${REFERRERS}.att`)).toBe(true);
    } finally {
      await s.close();
    }
  });

  test('freshness off (both bounds 0): no 200 reaches geosync', async () => {
    const s = await startStack({ release, registry, signatureTagMaxStalenessMs: 0 });
    try {
      expect(await asked(s, 'GET', '/v2/team/app/manifests/prod')).toBe(false);
      expect(await asked(s, 'GET', `/v2/team/app/manifests/${REFERRERS}.sig`)).toBe(false);
    } finally {
      await s.close();
    }
  });
});
