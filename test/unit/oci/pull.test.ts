import fc from 'fast-check';
import {
  classifyPull,
  DEFAULT_PULL_POLICY,
  MAX_PATH_LENGTH,
  type Classification,
} from '../../../src/oci/pull';
import { isRepositoryName, isTag, parseDigest } from '../../../src/oci/reference';

const SHA256 = 'a'.repeat(64);
const SHA512 = 'b'.repeat(128);

function classify(method: string, path: string, redirected = false): Classification {
  return classifyPull({ method, path, redirected });
}

describe('classifyPull: eligible pulls', () => {
  test.each([
    ['GET', '/v2/alpine/manifests/latest', 'manifest_by_tag'],
    ['HEAD', '/v2/alpine/manifests/latest', 'manifest_by_tag'],
    ['GET', '/v2/library/alpine/manifests/3.19', 'manifest_by_tag'],
    ['GET', `/v2/a/b/c/manifests/sha256:${SHA256}`, 'manifest_by_digest'],
    ['HEAD', `/v2/a/manifests/sha512:${SHA512}`, 'manifest_by_digest'],
    ['GET', `/v2/team-x/app__v2/blobs/sha256:${SHA256}`, 'blob'],
    ['GET', `/v2/a.b_c--d/blobs/sha256:${SHA256}?ns=docker.io`, 'blob'],
    ['GET', '/v2/x/manifests/_underscore-first', 'manifest_by_tag'],
    ['GET', `/v2/x/manifests/${'T'.repeat(128)}`, 'manifest_by_tag'],
  ])('%s %s → %s', (method, path, kind) => {
    const c = classify(method, path);
    expect(c.eligible && c.target.kind).toBe(kind);
  });

  test('carries repository, tag and digest', () => {
    expect(classify('GET', '/v2/library/alpine/manifests/3.19')).toEqual({
      eligible: true,
      target: { kind: 'manifest_by_tag', repository: 'library/alpine', tag: '3.19' },
    });
    expect(classify('GET', `/v2/a/blobs/sha256:${SHA256}`)).toEqual({
      eligible: true,
      target: { kind: 'blob', repository: 'a', digest: { algorithm: 'sha256', hex: SHA256 } },
    });
  });
});

describe('classifyPull: ineligible requests', () => {
  test.each([
    // A push HEADs blobs to decide whether to upload (Azure/acr#588)
    ['HEAD', `/v2/a/blobs/sha256:${SHA256}`, 'blob_head'],
    ['PUT', '/v2/a/manifests/latest', 'method'],
    ['DELETE', `/v2/a/manifests/sha256:${SHA256}`, 'method'],
    ['POST', '/v2/a/blobs/uploads/?mount=sha256:x&from=b', 'method'],
    ['PATCH', '/v2/a/blobs/uploads/uuid', 'method'],
    ['get', '/v2/a/manifests/latest', 'method'],
    ['GET', '/v2/', 'path'],
    ['GET', '/v2/_catalog', 'path'],
    ['GET', '/v2/a/tags/list', 'path'],
    ['GET', '/v2/a/blobs/uploads/uuid', 'path'],
    ['GET', '/v1/a/manifests/latest', 'path'],
    ['GET', '/v2/a/manifests/', 'path'],
    ['GET', '/v2/a/manifests/latest/', 'path'],
    ['GET', '/v2//manifests/latest', 'path'],
    ['GET', '/v2/A/manifests/latest', 'grammar'],
    ['GET', '/v2/a//b/manifests/latest', 'grammar'],
    ['GET', '/v2/a/../b/manifests/latest', 'grammar'],
    ['GET', '/v2/%2e%2e/manifests/latest', 'grammar'],
    ['GET', '/v2/a/%2e%2e/b/manifests/latest', 'grammar'],
    ['GET', '/v2/a/manifests/%2e%2e', 'grammar'],
    ['GET', '/v2/a/manifests/.hidden', 'grammar'],
    ['GET', '/v2/a/manifests/-dash', 'grammar'],
    ['GET', `/v2/a/manifests/${'t'.repeat(129)}`, 'grammar'],
    ['GET', '/v2/a/manifests/md5:abcdef', 'grammar'],
    ['GET', `/v2/a/manifests/sha256:${SHA256.toUpperCase()}`, 'grammar'],
    ['GET', `/v2/a/manifests/sha256:${SHA256.slice(1)}`, 'grammar'],
    ['GET', `/v2/a/blobs/sha384:${'c'.repeat(96)}`, 'grammar'],
    ['GET', '/v2/a/blobs/latest', 'grammar'],
    ['GET', '/v2/a-/manifests/latest', 'grammar'],
    ['GET', '/v2/a___b/manifests/latest', 'grammar'],
    ['GET', `/v2/${'a'.repeat(256)}/manifests/latest`, 'too_long'],
    ['GET', `/v2/a/manifests/latest?${'q'.repeat(MAX_PATH_LENGTH)}`, 'too_long'],
    ['GET', '/v2/a/manifests/latest#frag', 'path'],
    ['GET', '', 'path'],
  ])('%s %s → %s', (method, path, reason) => {
    expect(classify(method, path)).toEqual({ eligible: false, reason });
  });

  test('a request with a body is never eligible: Envoy could not replay it to the sibling', () => {
    const req = { method: 'GET', path: `/v2/a/blobs/sha256:${'a'.repeat(64)}`, redirected: false };
    expect(classifyPull({ ...req, bodyBytes: 1 })).toEqual({ eligible: false, reason: 'body' });
    expect(classifyPull({ ...req, bodyBytes: 0 })).toMatchObject({ eligible: true });
  });

  test('a request that already went through an internal redirect is never eligible', () => {
    expect(classify('GET', '/v2/a/manifests/latest', true)).toEqual({
      eligible: false,
      reason: 'internal_redirect',
    });
  });
});

describe('grammar atoms', () => {
  test('names: distribution/reference components and separators', () => {
    for (const ok of ['a', 'a0', 'a.b', 'a_b', 'a__b', 'a-b', 'a---b', 'a/b/c', 'x'.repeat(255)]) {
      expect(isRepositoryName(ok)).toBe(true);
    }
    for (const bad of [
      '',
      '.a',
      'a.',
      'a..b',
      'a_.b',
      'a/',
      '/a',
      'a//b',
      'A',
      'a b',
      'x'.repeat(256),
      'a%2fb',
    ]) {
      expect(isRepositoryName(bad)).toBe(false);
    }
  });

  test('tags and digests', () => {
    expect(isTag('v1.0.0-rc_1')).toBe(true);
    expect(isTag('')).toBe(false);
    expect(parseDigest(`sha256:${SHA256}`)).toEqual({ algorithm: 'sha256', hex: SHA256 });
    expect(parseDigest(`sha512:${SHA512}`)).toEqual({ algorithm: 'sha512', hex: SHA512 });
    expect(parseDigest(`constructor:${SHA256}`)).toBeUndefined();
    expect(parseDigest(`__proto__:${SHA256}`)).toBeUndefined();
  });
});

describe('classifyPull: properties', () => {
  const component = fc
    .stringMatching(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/)
    .filter((s) => s.length <= 30);
  const name = fc.array(component, { minLength: 1, maxLength: 4 }).map((c) => c.join('/'));
  const tag = fc.stringMatching(/^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/);
  const hex = fc.stringMatching(/^[a-f0-9]{64}$/);

  test('every well-formed pull is eligible and round-trips', () => {
    fc.assert(
      fc.property(name, tag, hex, (n, t, h) => {
        const byTag = classify('GET', `/v2/${n}/manifests/${t}`);
        const blob = classify('GET', `/v2/${n}/blobs/sha256:${h}`);
        return (
          byTag.eligible &&
          byTag.target.kind === 'manifest_by_tag' &&
          byTag.target.repository === n &&
          byTag.target.tag === t &&
          blob.eligible &&
          blob.target.kind === 'blob' &&
          blob.target.digest.hex === h
        );
      }),
    );
  });

  test('no eligible target ever contains a dot segment, percent sign or empty component', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.constantFrom('GET', 'HEAD'), (s, method) => {
        const c = classify(method, `/v2/${s}`);
        if (!c.eligible) return true;
        const parts = c.target.repository.split('/');
        return !s.includes('%') && parts.every((p) => p !== '' && p !== '.' && p !== '..');
      }),
      { numRuns: 2000 },
    );
  });

  test('arbitrary input never throws', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.boolean(), (method, path, redirected) => {
        classifyPull({ method, path, redirected });
        return true;
      }),
      { numRuns: 2000 },
    );
  });
});

describe('classifyPull: proxyManifestHeadByDigest', () => {
  const digestPath = `/v2/a/manifests/sha256:${SHA256}`;
  test('default: HEAD of a manifest by digest is a pull (containerd resolves pulls by digest with it)', () => {
    expect(classifyPull({ method: 'HEAD', path: digestPath, redirected: false }).eligible).toBe(true);
  });

  test('off: it is not proxied (containerd HEADs a manifest before pushing it), GET and HEAD by tag still are', () => {
    const off = { ...DEFAULT_PULL_POLICY, proxyManifestHeadByDigest: false };
    expect(classifyPull({ method: 'HEAD', path: digestPath, redirected: false }, off)).toEqual({
      eligible: false,
      reason: 'manifest_head_by_digest',
    });
    expect(classifyPull({ method: 'GET', path: digestPath, redirected: false }, off).eligible).toBe(true);
    expect(
      classifyPull({ method: 'HEAD', path: '/v2/a/manifests/v1', redirected: false }, off).eligible,
    ).toBe(true);
  });
});

describe('classifyPull: a pusher sees only this region', () => {
  const tagPath = '/v2/team/app/manifests/v1';
  const digestPath = `/v2/team/app/manifests/sha256:${SHA256}`;
  const blobPath = `/v2/team/app/blobs/sha256:${SHA256}`;
  const pusher = { pushRepositories: new Set(['team/app']), redirected: false };

  test('a client whose token grants push on the repository: no GET or HEAD is rescued', () => {
    for (const [method, path] of [
      ['HEAD', tagPath],
      ['GET', tagPath],
      ['HEAD', digestPath],
      ['GET', digestPath],
      ['GET', blobPath],
    ] as const) {
      expect(classifyPull({ method, path, ...pusher })).toEqual({ eligible: false, reason: 'pusher' });
    }
  });

  test('push on another repository changes nothing here (a build pulls its base image)', () => {
    const other = { pushRepositories: new Set(['team/other']), redirected: false };
    expect(classifyPull({ method: 'HEAD', path: tagPath, ...other }).eligible).toBe(true);
  });

  test("a copy tool's manifest HEAD (regclient) is a push check; its GETs and other agents' HEADs are pulls", () => {
    const regctl = { userAgent: 'regclient/regctl (v0.11.7)', redirected: false };
    expect(classifyPull({ method: 'HEAD', path: tagPath, ...regctl })).toEqual({
      eligible: false,
      reason: 'pusher',
    });
    expect(classifyPull({ method: 'HEAD', path: digestPath, ...regctl }).eligible).toBe(false);
    expect(classifyPull({ method: 'GET', path: tagPath, ...regctl }).eligible).toBe(true);
    expect(classifyPull({ method: 'GET', path: blobPath, ...regctl }).eligible).toBe(true);
    const containerd = { userAgent: 'containerd/v2.4.2', redirected: false };
    expect(classifyPull({ method: 'HEAD', path: tagPath, ...containerd }).eligible).toBe(true);
    const none = { ...DEFAULT_PULL_POLICY, pushCheckUserAgents: [] };
    expect(classifyPull({ method: 'HEAD', path: tagPath, ...regctl }, none).eligible).toBe(true);
  });

  test("a listed Basic user's manifest HEAD is a push check; its GETs and other users' HEADs are pulls", () => {
    const policy = { ...DEFAULT_PULL_POLICY, pushCheckBasicUsers: ['ci-robot', 'release-bot'] };
    const robot = { basicUser: 'ci-robot', redirected: false };
    for (const path of [tagPath, digestPath]) {
      expect(classifyPull({ method: 'HEAD', path, ...robot }, policy)).toEqual({
        eligible: false,
        reason: 'pusher',
      });
    }
    expect(classifyPull({ method: 'GET', path: tagPath, ...robot }, policy).eligible).toBe(true);
    expect(classifyPull({ method: 'GET', path: blobPath, ...robot }, policy).eligible).toBe(true);
    // Exact names: user-ids are case-sensitive in htpasswd, and a prefix is another user.
    for (const basicUser of ['dev', 'CI-ROBOT', 'ci-robot2', 'ci-robo']) {
      expect(
        classifyPull({ method: 'HEAD', path: tagPath, basicUser, redirected: false }, policy).eligible,
      ).toBe(true);
    }
    expect(classifyPull({ method: 'HEAD', path: tagPath, redirected: false }, policy).eligible).toBe(true);
    // The default names nobody.
    expect(classifyPull({ method: 'HEAD', path: tagPath, ...robot }).eligible).toBe(true);
  });
});
