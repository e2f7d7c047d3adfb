/**
 * `envoy --mode validate` (the real binary's complete check: every extension's own validation,
 * cluster and listener construction, files read) on the newest and the oldest supported release,
 * for every bootstrap the generator can produce from the options the tests cover, for the
 * bootstraps generated from the configurations the repository ships, and for the bootstraps it
 * ships. Envoy reads the certificate and key files a bootstrap names; where a shipped bootstrap
 * names files that exist only where it is deployed (/etc/envoy/tls/...), the test points them at
 * generated files of the same kind and says so in the test name.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadConfigFile } from '../../../src/config/load';
import { validateWithEnvoy } from '../../../src/envoy/binary';
import { buildBootstrap } from '../../../src/envoy/bootstrap';
import { repositoryBootstraps, shippedGeosyncConfigs } from '../../support/envoy/bootstraps';
import { envoyBinary, type EnvoyRelease } from '../../support/envoy/envoy';
import { ROOT } from '../../support/clients/geosync-cli';
import { makeTls, type TlsFiles } from '../../support/http-fakes';
import { makeConfig, type ConfigShape } from '../../unit/envoy/support';

jest.setTimeout(120_000);

const RELEASES: EnvoyRelease[] = ['newest', 'oldest'];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-validate-'));
let tls: TlsFiles;
beforeAll(() => {
  tls = makeTls(path.join(dir, 'tls'), 'registry.internal');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Every option the generator's tests cover, as configuration shapes. */
function generatorShapes(): [string, () => ConfigShape][] {
  const shapes: [string, () => ConfigShape][] = [];
  for (const regions of [1, 2, 3, 5])
    for (const scheme of ['http', 'https'] as const)
      shapes.push([`${regions} region(s), ${scheme}`, () => ({ regions, scheme })]);
  shapes.push(
    ['loopback regions (ports kept)', () => ({ regions: 3, scheme: 'http', loopback: true })],
    ['geosync on a unix socket', () => ({ regions: 2, grpc: 'unix:/run/geosync/grpc.sock' })],
    ['geosync on a wildcard address', () => ({ regions: 2, grpc: '0.0.0.0:9002' })],
    ['a longer lookup deadline', () => ({ regions: 2, lookupTimeoutMs: 900 })],
    [
      'HTTP/2 upstreams: h2c siblings, HTTP/1.1 local registry',
      () => ({
        regions: 3,
        envoy: { siblingDefaults: { protocol: 'http2' }, localRegistry: { protocol: 'http1' } },
      }),
    ],
    [
      'HTTP/2 upstreams over TLS: explicit for siblings, ALPN (auto) for the local registry',
      () => ({
        regions: 2,
        scheme: 'https',
        envoy: {
          siblingDefaults: { protocol: 'http2', caFile: tls.caFile, healthCheck: { enabled: true } },
          localRegistry: { address: 'registry.internal', tls: true, caFile: tls.caFile },
        },
      }),
    ],
    [
      'every knob set (TLS listener, TLS local registry, health checks, no outlier detection, no access log)',
      () => ({
        regions: 3,
        envoy: {
          listener: { tls: { certChain: tls.certFile, privateKey: tls.keyFile } },
          localRegistry: {
            address: 'registry.internal',
            tls: true,
            caFile: tls.caFile,
            healthCheck: { enabled: true },
          },
          siblingDefaults: {
            healthCheck: { enabled: true },
            outlierDetection: { enabled: false },
            caFile: tls.caFile,
          },
          extProc: { maxStreamsPerConnection: 100, connectTimeoutMs: 500 },
          accessLogPath: '',
        },
      }),
    ],
  );
  return shapes;
}

async function envoyValidate(release: EnvoyRelease, name: string, bootstrap: unknown): Promise<string> {
  const file = path.join(dir, `${release}-${name.replace(/[^a-z0-9]+/gi, '_')}.yaml`);
  fs.writeFileSync(file, typeof bootstrap === 'string' ? bootstrap : stringify(bootstrap));
  // The product's own runner (what `geosync envoy-config --check` uses).
  const result = await validateWithEnvoy(envoyBinary(release).path, file);
  if (result.code !== 0)
    throw new Error(`envoy ${release} rejected ${name}:
${result.output}`);
  return result.output;
}

/** Certificate, key and CA paths that do not exist here, pointed at generated files of that kind. */
function withLocalFiles(bootstrap: unknown): { bootstrap: unknown; replaced: string[] } {
  const replaced: string[] = [];
  const kind: Record<string, () => string> = {
    certificate_chain: () => tls.certFile,
    private_key: () => tls.keyFile,
    trusted_ca: () => tls.caFile,
  };
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v !== 'object' || v === null) return v;
    const out: Record<string, unknown> = {};
    for (const [k, child] of Object.entries(v)) {
      const file = (child as { filename?: unknown } | null)?.filename;
      if (k in kind && typeof file === 'string' && !fs.existsSync(file)) {
        replaced.push(file);
        out[k] = { ...(child as object), filename: kind[k]!() };
      } else out[k] = walk(child);
    }
    return out;
  };
  return { bootstrap: walk(bootstrap), replaced };
}

describe.each(RELEASES)('envoy %s --mode validate', (release) => {
  test('runs the pinned release', () => {
    expect(envoyBinary(release).version).toMatch(/^1\.\d+\.\d+$/);
  });

  test.each(generatorShapes())('generated: %s', async (name, shape) => {
    const output = await envoyValidate(release, name, buildBootstrap(makeConfig(shape())));
    expect(output).toContain('OK');
  });

  test.each(shippedGeosyncConfigs(ROOT))('generated from %s', async (file) => {
    const loaded = await loadConfigFile(path.join(ROOT, file), {});
    if (!loaded.ok) throw new Error(`${file}: ${JSON.stringify(loaded.problems)}`);
    const { bootstrap, replaced } = withLocalFiles(buildBootstrap(loaded.config));
    const output = await envoyValidate(release, file, bootstrap);
    expect({ file, replaced, ok: output.includes('OK') }).toMatchObject({ file, ok: true });
  });

  test.each(repositoryBootstraps(ROOT))(
    'shipped bootstrap %s (deployment-only files replaced)',
    async (name, raw) => {
      const { bootstrap } = withLocalFiles(raw);
      const output = await envoyValidate(release, name, bootstrap);
      expect(output).toContain('OK');
    },
  );
});
