import fc from 'fast-check';
import { BASIC_USER_ID, basicUser, MAX_BASIC_USER_LENGTH } from '../../../src/oci/basic-user';

describe('basicUser: the user-id Envoy passes, as geosync reads it', () => {
  test('visible ASCII without a colon, 1 to 256 characters', () => {
    for (const user of [
      'ci-robot',
      'a',
      'robot$ci@example.com',
      '~!#%&*()[]{}<>?/\\|"\'`^=+',
      'x'.repeat(256),
    ]) {
      expect(basicUser(user)).toBe(user);
    }
  });

  test('nothing for anything else: absent, empty, a colon (a password would follow), spaces, controls, non-ASCII, too long', () => {
    for (const value of [
      undefined,
      '',
      'ci-robot:secret',
      ':',
      'ci robot',
      ' ci-robot',
      'ci-robot\t',
      'ci\u0000robot',
      'ci\u007frobot',
      'rob\u00e9t',
      'x'.repeat(MAX_BASIC_USER_LENGTH + 1),
    ]) {
      expect(basicUser(value)).toBeUndefined();
    }
  });

  test('whatever passes is the whole value and holds no colon', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const user = basicUser(s);
        return user === undefined || (user === s && !user.includes(':') && BASIC_USER_ID.test(user));
      }),
      { numRuns: 2000 },
    );
  });
});
