/** §2.3 header mutation rules: Checker::isAllowed/isValidValue and applyHeaderMutations. */
import type { HeaderMutation__Output } from '../../../src/generated/envoy/service/ext_proc/v3/HeaderMutation';
import type { MutationRules } from '../../envoy-sim/ext-proc-config';
import { HeaderMap } from '../../envoy-sim/header-map';
import { applyHeaderMutations, check } from '../../envoy-sim/mutation-rules';

const DEFAULT_RULES: MutationRules = {
  allowAllRouting: false,
  allowEnvoy: false,
  disallowSystem: false,
  disallowAll: false,
  disallowIsError: false,
};

describe('Checker', () => {
  it.each([
    ['SET', ':status', '307', {}, 'OK'],
    ['SET', ':status', '199', {}, 'IGNORE'],
    ['SET', ':status', '99999', {}, 'OK'], // no upper bound is checked
    ['SET', ':status', ' 307', {}, 'OK'], // SimpleAtoi tolerates whitespace
    ['SET', 'location', 'https://x/y', {}, 'OK'],
    ['REMOVE', ':status', '', {}, 'IGNORE'],
    ['REMOVE', ':status', '', { allowExpression: /^:status$/ }, 'IGNORE'], // never, whatever the rules
    ['REMOVE', 'host', '', {}, 'IGNORE'],
    ['SET', ':authority', 'a.example', {}, 'IGNORE'],
    ['SET', ':authority', 'a.example', { allowAllRouting: true }, 'OK'],
    ['SET', ':authority', 'bad host', { allowAllRouting: true }, 'IGNORE'],
    ['SET', ':scheme', 'ftp', { allowAllRouting: true }, 'IGNORE'],
    ['SET', ':method', 'POST', {}, 'IGNORE'],
    ['APPEND', ':path', '/x', {}, 'IGNORE'],
    ['SET', ':path', '/x', { disallowSystem: true }, 'IGNORE'],
    ['SET', 'x-envoy-foo', '1', {}, 'IGNORE'],
    ['SET', 'x-envoy-foo', '1', { allowEnvoy: true }, 'OK'],
    ['SET', 'x-any', '1', { disallowAll: true }, 'IGNORE'],
    ['SET', 'x-any', '1', { disallowAll: true, allowExpression: /^x-any$/ }, 'OK'],
    ['SET', 'x-any', '1', { allowExpression: /^x-any$/, disallowExpression: /^x-.*$/ }, 'IGNORE'],
    ['SET', 'x-envoy-foo', '1', { disallowIsError: true }, 'FAIL'],
  ] as const)('%s %s=%j with %j → %s', (op, name, value, rules, want) => {
    expect(check({ ...DEFAULT_RULES, ...rules }, op, name, value)).toBe(want);
  });
});

function mutation(
  set: { key: string; value?: string; raw?: string; append?: boolean }[],
  remove: string[] = [],
) {
  return {
    set_headers: set.map((h) => ({
      header: { key: h.key, value: h.value ?? '', raw_value: Buffer.from(h.raw ?? '') },
      append: h.append === undefined ? null : { value: h.append },
      append_action: 'APPEND_IF_EXISTS_OR_ADD',
      keep_empty_value: false,
    })),
    remove_headers: remove,
  } as unknown as HeaderMutation__Output;
}

function apply(
  m: HeaderMutation__Output,
  headers: HeaderMap,
  rawValue = true,
  rules: Partial<MutationRules> = {},
) {
  let rejected = 0;
  const result = applyHeaderMutations(m, headers, {
    rules: { ...DEFAULT_RULES, ...rules },
    rawValue,
    replacingMessage: false,
    maxHeadersCount: 100,
    maxHeadersKb: 60,
    onRejected: () => rejected++,
  });
  return { result, rejected };
}

describe('applyHeaderMutations', () => {
  const response = () =>
    new HeaderMap([
      [':status', '404'],
      ['content-type', 'application/json'],
      ['x-multi', 'a'],
      ['x-multi', 'b'],
    ]);

  it('reads raw_value only when send_header_raw_value is on', () => {
    const h = response();
    const { rejected } = apply(
      mutation([
        { key: ':status', value: '307' },
        { key: 'location', value: 'https://s/x' },
      ]),
      h,
    );
    expect(h.get(':status')).toBe('404');
    expect(h.get('location')).toBe(''); // "" is a valid value for an ordinary header
    expect(rejected).toBe(1);
    const h2 = response();
    apply(
      mutation([
        { key: ':status', raw: '307' },
        { key: 'location', raw: 'https://s/x' },
      ]),
      h2,
    );
    expect(h2.get(':status')).toBe('307');
    expect(h2.get('location')).toBe('https://s/x');
  });

  it('reads value only when send_header_raw_value is off', () => {
    const h = response();
    apply(mutation([{ key: ':status', value: '307' }]), h, false);
    expect(h.get(':status')).toBe('307');
  });

  it('value and raw_value both set is an error', () => {
    const { result } = apply(mutation([{ key: 'x-a', value: '1', raw: '1' }]), response());
    expect(result).toEqual({ ok: false, message: expect.stringContaining('Only one of value or raw_value') });
  });

  it('invalid characters are an error, not an ignore', () => {
    expect(apply(mutation([{ key: 'x-a', raw: 'a\r\nb' }]), response()).result.ok).toBe(false);
    expect(apply(mutation([{ key: 'bad key', raw: '1' }]), response()).result.ok).toBe(false);
    expect(apply(mutation([], ['bad key']), response()).result.ok).toBe(false);
  });

  it('unset append overwrites every value; append=true adds', () => {
    const h = response();
    apply(
      mutation([
        { key: 'x-multi', raw: 'c' },
        { key: 'content-type', raw: 'text/plain', append: true },
      ]),
      h,
    );
    expect(h.getAll('x-multi')).toEqual(['c']);
    expect(h.getAll('content-type')).toEqual(['application/json', 'text/plain']);
  });

  it('removes run before sets', () => {
    const h = response();
    apply(mutation([{ key: 'content-type', raw: 'new' }], ['content-type']), h);
    expect(h.getAll('content-type')).toEqual(['new']);
  });

  it('a result over the header count limit is an error', () => {
    const many = Array.from({ length: 100 }, (_, i) => ({ key: `x-${i}`, raw: '1' }));
    expect(apply(mutation(many), response()).result.ok).toBe(false);
  });
});
