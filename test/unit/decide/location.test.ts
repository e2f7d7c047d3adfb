import { redirectLocation } from '../../../src/decide/decision';
import { setHeader } from '../../../src/extproc/headers';

const BASE = 'https://registry-a.example.com/';

describe('redirectLocation', () => {
  test('path and query as sent, after the region URL without its trailing slash', () => {
    expect(redirectLocation(BASE, '/v2/team/app/blobs/sha256:ab?x=1&y=%20')).toBe(
      'https://registry-a.example.com/v2/team/app/blobs/sha256:ab?x=1&y=%20',
    );
  });

  test.each([
    ['U+010A and U+010D (LF and CR as latin1 bytes)', '?q=\u010a\u010d', '?q=%C4%8A%C4%8D'],
    ['CR, LF, NUL, space, DEL', '?q=\r\n\0 \x7f', '?q=%0D%0A%00%20%7F'],
    ['a lone surrogate', '?q=\ud800', '?q=%EF%BF%BD'],
    ['an emoji', '?q=\u{1f600}', '?q=%F0%9F%98%80'],
  ])('%s in the query: percent-encoded as UTF-8', (_name, query, encoded) => {
    const location = redirectLocation(BASE, `/v2/team/app/manifests/v1${query}`);
    expect(location).toBe(`https://registry-a.example.com/v2/team/app/manifests/v1${encoded}`);
    // What Envoy receives: only visible ASCII bytes.
    const bytes = setHeader('location', location).header?.raw_value as Buffer;
    expect([...bytes].every((b) => b >= 0x21 && b <= 0x7e)).toBe(true);
  });
});
