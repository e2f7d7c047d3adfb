/**
 * Header mutation rules, §2.3: filters/common/mutation_rules/mutation_rules.cc (Checker) and
 * ext_proc/mutation_utils.cc (applyHeaderMutations), reproduced check for check.
 */
import type { HeaderMutation__Output } from '../../src/generated/envoy/service/ext_proc/v3/HeaderMutation';
import type { MutationRules } from './ext-proc-config';
import type { HeaderMap } from './header-map';

export type CheckOperation = 'SET' | 'APPEND' | 'REMOVE';
export type CheckResult = 'OK' | 'IGNORE' | 'FAIL';

const ROUTING_HEADERS = new Set(['host', ':authority', ':method', ':scheme']);
/** RFC 7230 token, plus a leading ':' for pseudo-headers (HeaderUtility::headerNameIsValid). */
const HEADER_NAME = /^:?[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Authority characters (nghttp2_check_authority). */
const AUTHORITY = /^[A-Za-z0-9\-._~%!$&'()*+,;=:@[\]]*$/;

/** HeaderUtility::headerValueIsValid: no NUL, CR or LF. */
export function headerValueIsValid(value: string): boolean {
  return !/[\0\r\n]/.test(value);
}

export function headerNameIsValid(name: string): boolean {
  return HEADER_NAME.test(name);
}

/** Checker::check: allowed and (REMOVE or valid value) → OK; otherwise IGNORE, or FAIL with disallow_is_error. */
export function check(rules: MutationRules, op: CheckOperation, name: string, value: string): CheckResult {
  if (isAllowed(rules, op, name) && (op === 'REMOVE' || isValidValue(name, value))) return 'OK';
  return rules.disallowIsError ? 'FAIL' : 'IGNORE';
}

/** Checker::isAllowed, in its order. */
export function isAllowed(rules: MutationRules, op: CheckOperation, name: string): boolean {
  // "No matter what, you can't remove the host or any ':' headers."
  if (op === 'REMOVE' && (name.startsWith(':') || name === 'host')) return false;
  if (rules.disallowExpression?.test(name)) return false;
  if (rules.allowExpression?.test(name)) return true;
  if (rules.disallowAll) return false;
  if (!rules.allowAllRouting && ROUTING_HEADERS.has(name)) return false;
  if (name.startsWith(':') && (op === 'APPEND' || rules.disallowSystem)) return false;
  if (!rules.allowEnvoy && name.startsWith('x-envoy')) return false;
  return true;
}

/** Checker::isValidValue: `:status` an integer ≥ 200 (absl::SimpleAtoi into uint32, no upper bound). */
export function isValidValue(name: string, value: string): boolean {
  if (!name.startsWith(':') && !headerValueIsValid(value)) return false;
  if (name === 'host' || name === ':authority') return AUTHORITY.test(value);
  if (name === ':scheme') return /^https?$/i.test(value);
  if (name === ':status') {
    const t = value.trim();
    if (!/^\+?\d+$/.test(t)) return false;
    const n = Number(t);
    return n <= 0xffffffff && n >= 200;
  }
  return true;
}

export interface MutationOptions {
  rules: MutationRules;
  /** Runtime `send_header_raw_value`: read only `raw_value` (true) or only `value` (false). */
  rawValue: boolean;
  /** CONTINUE_AND_REPLACE lets `:method` through (handleCheckResult special case). */
  replacingMessage: boolean;
  maxHeadersCount: number;
  maxHeadersKb: number;
  onRejected: () => void;
}

export type MutationResult = { ok: true } | { ok: false; message: string };

/** MutationUtils::applyHeaderMutations: size check, removes, then sets, then the result-size check. */
export function applyHeaderMutations(
  mutation: HeaderMutation__Output,
  headers: HeaderMap,
  opts: MutationOptions,
): MutationResult {
  const fail = (message: string): MutationResult => {
    opts.onRejected();
    return { ok: false, message };
  };
  if (
    mutation.remove_headers.length > opts.maxHeadersCount ||
    mutation.set_headers.length > opts.maxHeadersCount
  )
    return fail('Header mutation exceeds the header count limit.');

  for (const raw of mutation.remove_headers) {
    if (!headerNameIsValid(raw)) return fail('Invalid character in remove_headers mutation.');
    const name = raw.toLowerCase();
    const result = check(opts.rules, 'REMOVE', name, '');
    if (result === 'OK') headers.remove(name);
    else if (result === 'IGNORE') opts.onRejected();
    else return fail(`Invalid attempt to remove ${name}`);
  }

  for (const sh of mutation.set_headers) {
    if (!sh.header) continue;
    const raw = sh.header.raw_value ? Buffer.from(sh.header.raw_value).toString('latin1') : '';
    const plain = sh.header.value ?? '';
    if (raw !== '' && plain !== '')
      return fail('Only one of value or raw_value in the HeaderValue message should be set.');
    const value = opts.rawValue ? raw : plain;
    if (!headerNameIsValid(sh.header.key) || !headerValueIsValid(value))
      return fail('Invalid character in set_headers mutation.');
    const name = sh.header.key.toLowerCase();
    // The deprecated BoolValue `append`, default false = overwrite (§2.3; append_action is not read).
    const append = sh.append?.value === true;
    const op: CheckOperation = append && headers.has(name) ? 'APPEND' : 'SET';
    let result = check(opts.rules, op, name, value);
    if (opts.replacingMessage && name === ':method') result = 'OK';
    if (result === 'OK') {
      if (append) headers.add(name, value);
      else headers.set(name, value);
    } else if (result === 'IGNORE') opts.onRejected();
    else return fail(`Invalid attempt to modify ${name}`);
  }

  if (headers.size > opts.maxHeadersCount || headers.byteSize() > opts.maxHeadersKb * 1024)
    return fail(
      `Header mutation causes end result header count ${headers.size} or header size exceeding the limit.`,
    );
  return { ok: true };
}
