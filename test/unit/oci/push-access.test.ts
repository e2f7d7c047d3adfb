import fc from 'fast-check';
import { MAX_TOKEN_LENGTH, pushRepositories } from '../../../src/oci/push-access';

/** A JWT as a registry token server issues it (the signature is not read). */
function token(claims: unknown, scheme = 'Bearer'): string {
  const part = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url');
  return `${scheme} ${part({ alg: 'ES256', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJl`;
}

const access = (name: string, actions: string[], type = 'repository') => ({ type, name, actions });

describe('pushRepositories', () => {
  test('the repositories whose actions include push (or *)', () => {
    const t = token({
      access: [
        access('team/app', ['pull', 'push']),
        access('team/base', ['pull']),
        access('team/all', ['*']),
        access('catalog', ['*'], 'registry'),
      ],
    });
    expect([...pushRepositories(t)].sort()).toEqual(['team/all', 'team/app']);
  });

  test('a pull-only token, a token without access, and "bearer" in any case', () => {
    expect(pushRepositories(token({ access: [access('team/app', ['pull'])] })).size).toBe(0);
    expect(pushRepositories(token({ sub: 'x' })).size).toBe(0);
    expect([...pushRepositories(token({ access: [access('a', ['push'])] }, 'bearer'))]).toEqual(['a']);
    expect([...pushRepositories(token({ access: [access('a', ['push'])] }, 'BEARER'))]).toEqual(['a']);
  });

  test('anything else grants nothing: Basic, opaque tokens, bad base64 or JSON, odd shapes, too long', () => {
    for (const value of [
      undefined,
      '',
      'Basic dTpw',
      'Bearer ya29.opaque-oauth2-token',
      'Bearer a.!!!.c',
      'Bearer a.bm90IGpzb24.c',
      token(null),
      token({ access: 'push' }),
      token({ access: [null, 1, 'x', { type: 'repository', name: 3, actions: ['push'] }] }),
      token({ access: [{ type: 'repository', name: 'a', actions: 'push' }] }),
      token({ access: [access('a'.repeat(MAX_TOKEN_LENGTH), ['push'])] }),
    ]) {
      expect(pushRepositories(value).size).toBe(0);
    }
  });

  test('arbitrary header values never throw', () => {
    fc.assert(
      fc.property(fc.string(), fc.jsonValue(), (s, claims) => {
        pushRepositories(s);
        pushRepositories(`Bearer ${s}`);
        pushRepositories(token(claims));
        return true;
      }),
      { numRuns: 2000 },
    );
  });
});
