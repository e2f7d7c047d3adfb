/**
 * The grammar of repository names, tags and digests, composed from small named atoms as in
 * distribution/reference (regexp.go) and the OCI distribution spec:
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests
 * and the digest grammar of the OCI image spec (descriptor.md#digests).
 */

const alphanumeric = '[a-z0-9]+';
/** `.`, `_`, `__`, or one or more `-` (distribution/reference `separator`). */
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const name = `${pathComponent}(?:/${pathComponent})*`;
/** A tag (distribution/reference `tag`); also the RE2 pattern of Envoy's tag matcher (src/envoy). */
export const TAG_PATTERN = '[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}';

/**
 * Tags that stand for what refers to an image, re-pointed whenever a signature or attestation is
 * added: the OCI referrers tag schema's `sha256-<hex>` (the fallback of clients when a registry
 * has no referrers API, as distribution has none:
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#referrers-tag-schema) and
 * cosign's `sha256-<hex>.sig`, `.att` and `.sbom`. RE2 and JavaScript alike.
 */
export const REFERRER_TAG_PATTERN = 'sha256-[0-9a-f]{64}(?:\\.(?:sig|att|sbom))?';
const REFERRER_TAG = new RegExp(`^${REFERRER_TAG_PATTERN}$`);

export function isReferrerTag(tag: string): boolean {
  return REFERRER_TAG.test(tag);
}
const tag = TAG_PATTERN;

const NAME = new RegExp(`^${name}$`);
const TAG = new RegExp(`^${tag}$`);

/** distribution rejects names longer than this (reference.NameTotalLengthMax). */
export const NAME_MAX_LENGTH = 255;

/**
 * Registered digest algorithms geosync accepts, with the exact encoded form. Anything else
 * (unknown algorithm, upper-case hex, wrong length) is not a digest geosync looks up.
 */
const DIGEST_ALGORITHMS: Readonly<Record<string, RegExp>> = {
  sha256: /^[a-f0-9]{64}$/,
  sha512: /^[a-f0-9]{128}$/,
};

export interface Digest {
  readonly algorithm: 'sha256' | 'sha512';
  readonly hex: string;
}

export function isRepositoryName(value: string): boolean {
  return value.length <= NAME_MAX_LENGTH && NAME.test(value);
}

export function isTag(value: string): boolean {
  return TAG.test(value);
}

export function parseDigest(value: string): Digest | undefined {
  const colon = value.indexOf(':');
  if (colon < 0) return undefined;
  const algorithm = value.slice(0, colon);
  const hex = value.slice(colon + 1);
  const pattern = Object.prototype.hasOwnProperty.call(DIGEST_ALGORITHMS, algorithm)
    ? DIGEST_ALGORITHMS[algorithm]
    : undefined;
  if (!pattern || !pattern.test(hex)) return undefined;
  return { algorithm: algorithm as Digest['algorithm'], hex };
}

/** `algorithm:hex`, as the API and distribution's links write a digest. */
export function formatDigest(d: Digest): string {
  return `${d.algorithm}:${d.hex}`;
}
