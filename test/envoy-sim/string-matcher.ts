/**
 * envoy.type.matcher.v3.StringMatcher and the route HeaderMatcher
 * (source/common/common/matchers.cc, source/common/http/header_utility.cc matchHeaders).
 */
import { BootstrapError, bool, list, obj, regexMatcher, str } from './proto-values';

export type StringMatch = (value: string) => boolean;

export function parseStringMatcher(v: unknown, path: string): StringMatch {
  const m = obj(v, path);
  const ignoreCase = bool(m.ignore_case, `${path}.ignore_case`, false);
  const norm = (s: string) => (ignoreCase ? s.toLowerCase() : s);
  if (m.exact !== undefined) {
    const want = norm(str(m.exact, `${path}.exact`));
    return (s) => norm(s) === want;
  }
  if (m.prefix !== undefined) {
    const want = norm(str(m.prefix, `${path}.prefix`));
    return (s) => norm(s).startsWith(want);
  }
  if (m.suffix !== undefined) {
    const want = norm(str(m.suffix, `${path}.suffix`));
    return (s) => norm(s).endsWith(want);
  }
  if (m.contains !== undefined) {
    const want = norm(str(m.contains, `${path}.contains`));
    return (s) => norm(s).includes(want);
  }
  if (m.safe_regex !== undefined) {
    const re = regexMatcher(m.safe_regex, `${path}.safe_regex`);
    return (s) => re.test(s);
  }
  throw new BootstrapError(path, 'StringMatcher needs one of exact, prefix, suffix, contains, safe_regex');
}

export interface HeaderMatcher {
  name: string;
  match: (value: string | undefined) => boolean;
}

/** route.v3.HeaderMatcher: string_match, the deprecated *_match forms, present_match, invert_match. */
export function parseHeaderMatcher(v: unknown, path: string): HeaderMatcher {
  const m = obj(v, path);
  const name = str(m.name, `${path}.name`).toLowerCase();
  const invert = bool(m.invert_match, `${path}.invert_match`, false);
  const missingAsEmpty = bool(
    m.treat_missing_header_as_empty,
    `${path}.treat_missing_header_as_empty`,
    false,
  );
  let test: StringMatch | undefined;
  if (m.string_match !== undefined) test = parseStringMatcher(m.string_match, `${path}.string_match`);
  else if (m.exact_match !== undefined)
    test = parseStringMatcher({ exact: m.exact_match }, `${path}.exact_match`);
  else if (m.safe_regex_match !== undefined)
    test = parseStringMatcher({ safe_regex: m.safe_regex_match }, `${path}.safe_regex_match`);
  else if (m.prefix_match !== undefined)
    test = parseStringMatcher({ prefix: m.prefix_match }, `${path}.prefix_match`);
  else if (m.suffix_match !== undefined)
    test = parseStringMatcher({ suffix: m.suffix_match }, `${path}.suffix_match`);
  else if (m.contains_match !== undefined)
    test = parseStringMatcher({ contains: m.contains_match }, `${path}.contains_match`);
  else if (m.range_match !== undefined)
    throw new BootstrapError(`${path}.range_match`, 'not modelled by the simulator');
  // No value matcher: a presence check (present_match, true when unset).
  const presentWanted = bool(m.present_match, `${path}.present_match`, true);
  return {
    name,
    match: (value) => {
      if (value === undefined && !missingAsEmpty) {
        // route.proto: a missing header never matches a value matcher, inverted or not
        // (unless treat_missing_header_as_empty); present_match:false matches its absence.
        return test === undefined ? !presentWanted !== invert : false;
      }
      const result = test ? test(value ?? '') : presentWanted;
      return result !== invert;
    },
  };
}

export function parseHeaderMatchers(v: unknown, path: string): HeaderMatcher[] {
  return list(v, path).map((h, i) => parseHeaderMatcher(h, `${path}[${i}]`));
}
