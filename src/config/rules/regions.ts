/** Rules between `region`, `preference`, `regions` and the sections that need a region's storage. */
import type { Issue } from '../refine';
import { namedRegions, type Rule } from './context';

/** `region` is one of the names declared in `regions`, valid or not (one bad region hides nothing). */
export const regionIsDeclared: Rule = ({ file, written }) => {
  const declared = (Array.isArray(written.regions) ? written.regions : [])
    .map((r) => r?.name)
    .filter((n): n is string => typeof n === 'string');
  if (file.region === undefined || declared.length === 0 || declared.includes(file.region)) return [];
  return [
    { path: ['region'], message: `"${file.region}" is not one of regions[].name (${declared.join(', ')})` },
  ];
};

/** `preference` ranks siblings: real region names, not this one, each once. */
export const preferenceNamesSiblings: Rule = (ctx) => {
  const names = namedRegions(ctx).map(({ region }) => region.name);
  const seen = new Set<string>();
  return (ctx.file.preference ?? []).flatMap((name, i): Issue[] => {
    const issue = (why: string) => [{ path: ['preference', i], message: `"${name}" ${why}` }];
    if (name === undefined) return [];
    if (name === ctx.file.region) return issue('is this region; list sibling regions only');
    if (!names.includes(name)) return issue('is not one of regions[].name');
    if (seen.has(name)) return issue('is listed twice');
    seen.add(name);
    return [];
  });
};

/** A `basic` registry credential is whole, unless the command uses no secret. */
export const registryCredentialsSet: Rule = (ctx) =>
  (ctx.file.regions ?? []).flatMap((region, index) => {
    const r = region?.lookup === 'registry' ? region.registry : undefined;
    const missing = (['username', 'password'] as const).filter((k) => r?.[k] === undefined);
    if (r?.credentials !== 'basic' || missing.length === 0 || !ctx.secrets) return [];
    const variable = missing.includes('password') ? ' (or its environment variable)' : '';
    return [
      {
        path: ['regions', index, 'registry', missing[0]!],
        message: `\`credentials: basic\` needs ${missing.join(' and ')}${variable}`,
      },
    ];
  });

/**
 * Tag freshness reads this region's tag history (`_manifests/tags/<tag>/index/`), which only its
 * storage keeps: a registry's API has none (src/tag-freshness/verdict.ts).
 */
export const freshnessReadsLocalStorage: Rule = ({ file }) => {
  const f = file.freshness;
  if (!((f?.tagMaxStalenessMs ?? 0) > 0 || (f?.signatureTagMaxStalenessMs ?? 0) > 0)) return [];
  const i = (file.regions ?? []).findIndex((r) => r?.name === file.region);
  const local = file.regions?.[i];
  if (!local || local.storage !== undefined || (local.lookup ?? 'storage') === 'storage') return [];
  return [
    {
      path: ['regions', i, 'storage'],
      message:
        "tag freshness reads this region's own tag history from its storage: give its `storage` (with `lookup: registry` too), or turn freshness off",
    },
  ];
};

export const REGION_RULES = [
  registryCredentialsSet,
  freshnessReadsLocalStorage,
  regionIsDeclared,
  preferenceNamesSiblings,
];
