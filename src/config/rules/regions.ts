/** Rules between regions, and between `region`, `preference` and `regions`. */
import { problem, type ConfigProblem } from '../problems';
import { namedRegions, type Rule, type RuleContext } from './context';

/** `region` is one of the names declared in `regions`, valid or not (one bad region hides nothing). */
export const regionIsDeclared: Rule = (ctx) => {
  const region = ctx.file.region;
  const declared = (Array.isArray(ctx.raw.regions) ? (ctx.raw.regions as unknown[]) : [])
    .map((x) => (x && typeof x === 'object' ? (x as Record<string, unknown>).name : undefined))
    .filter((n): n is string => typeof n === 'string');
  if (region === undefined || declared.length === 0 || declared.includes(region)) return [];
  return [problem('region', `"${region}" is not one of regions[].name (${declared.join(', ')})`)];
};

export const regionsAreDistinct: Rule = (ctx) => {
  const out: ConfigProblem[] = [];
  const names = new Map<string, number>();
  const urls = new Map<string, number>();
  for (const { index, region } of namedRegions(ctx)) {
    const sameName = names.get(region.name);
    if (sameName !== undefined)
      out.push(
        problem(
          ['regions', index, 'name'],
          `duplicate region name "${region.name}" (also regions[${sameName}])`,
        ),
      );
    else names.set(region.name, index);
  }
  (ctx.file.regions ?? []).forEach((region, index) => {
    if (region?.url === undefined) return;
    const sameUrl = urls.get(region.url);
    if (sameUrl !== undefined)
      out.push(problem(['regions', index, 'url'], `duplicate url (also regions[${sameUrl}])`));
    else urls.set(region.url, index);
  });
  return out;
};

/** `preference` ranks siblings: real region names, not this one, each once. */
export const preferenceNamesSiblings: Rule = (ctx) => {
  const names = namedRegions(ctx).map(({ region }) => region.name);
  const self = ctx.file.region;
  const seen: string[] = [];
  const out: ConfigProblem[] = [];
  (ctx.file.preference ?? []).forEach((name, i) => {
    if (name === undefined) return;
    const path = ['preference', i];
    if (name === self) out.push(problem(path, `"${name}" is this region; list sibling regions only`));
    else if (!names.includes(name)) out.push(problem(path, `"${name}" is not one of regions[].name`));
    else if (seen.includes(name)) out.push(problem(path, `"${name}" is listed twice`));
    else seen.push(name);
  });
  return out;
};

/** Static S3 credentials are a pair; neither means the AWS SDK's provider chain. */
export const s3CredentialsPaired: Rule = (ctx: RuleContext) =>
  (ctx.file.regions ?? []).flatMap((region, index) => {
    const storage = region?.storage;
    if (
      storage?.type !== 's3' ||
      (storage.accessKeyId === undefined) === (storage.secretAccessKey === undefined)
    )
      return [];
    const missing = storage.accessKeyId === undefined ? 'accessKeyId' : 'secretAccessKey';
    return [
      problem(
        ['regions', index, 'storage', missing],
        'accessKeyId and secretAccessKey go together (leave both out to use the AWS SDK provider chain)',
      ),
    ];
  });

/** Azure: one way to authenticate, and a client secret whole (distribution's `credentials`). */
export const azureCredentialsOneKind: Rule = (ctx: RuleContext) =>
  (ctx.file.regions ?? []).flatMap((region, index) => {
    const storage = region?.storage;
    if (storage?.type !== 'azure') return [];
    const path = ['regions', index, 'storage'];
    const kinds = (['accountkey', 'sastoken', 'credentials'] as const).filter(
      (k) => storage[k] !== undefined,
    );
    if (kinds.length > 1) {
      return [
        problem(
          [...path, kinds[1] as string],
          `set one of ${kinds.join(', ')}: each is a way to authenticate`,
        ),
      ];
    }
    const c = storage.credentials;
    if (c?.type !== 'client_secret') return [];
    const missing = (['clientid', 'tenantid', 'secret'] as const).filter((k) => !c[k]);
    return missing.length === 0
      ? []
      : [problem([...path, 'credentials'], `client_secret needs ${missing.join(', ')}`)];
  });

/**
 * `lookup: storage` (the default) reads the region's storage, so it needs one; `registry:` says
 * how to ask a registry, so it belongs to `lookup: registry` alone; a `basic` credential is whole.
 */
export const lookupHasWhatItNeeds: Rule = (ctx: RuleContext) =>
  (ctx.file.regions ?? []).flatMap((region, index): ConfigProblem[] => {
    if (!region) return [];
    const path = ['regions', index];
    const raw = (Array.isArray(ctx.raw.regions) ? ctx.raw.regions[index] : undefined) as
      Record<string, unknown> | undefined;
    const lookup = region.lookup ?? 'storage';
    if (lookup === 'storage') {
      const out: ConfigProblem[] = [];
      if (raw?.storage === undefined || raw.storage === null)
        out.push(
          problem([...path, 'storage'], 'is required with `lookup: storage` (or set `lookup: registry`)'),
        );
      if (raw?.registry !== undefined && raw.registry !== null)
        out.push(problem([...path, 'registry'], 'is used only with `lookup: registry`'));
      return out;
    }
    const r = region.registry;
    if (!r) return [];
    const given = (['username', 'password'] as const).filter((k) => r[k] !== undefined);
    if ((r.credentials ?? 'none') === 'basic') {
      const missing = (['username', 'password'] as const).filter((k) => r[k] === undefined);
      return missing.length === 0 || !ctx.secrets
        ? []
        : [
            problem(
              [...path, 'registry', missing[0] as string],
              `\`credentials: basic\` needs ${missing.join(' and ')}${missing.includes('password') ? ' (or its environment variable)' : ''}`,
            ),
          ];
    }
    return given.length === 0
      ? []
      : [problem([...path, 'registry', given[0] as string], 'is used only with `credentials: basic`')];
  });

/**
 * Tag freshness reads this region's tag history (`_manifests/tags/<tag>/index/`), which only its
 * storage keeps: a registry's API has none (src/tag-freshness/verdict.ts).
 */
export const freshnessReadsLocalStorage: Rule = (ctx: RuleContext) => {
  const f = ctx.file.freshness;
  if (!f || !((f.tagMaxStalenessMs ?? 0) > 0 || (f.signatureTagMaxStalenessMs ?? 0) > 0)) return [];
  const i = (ctx.file.regions ?? []).findIndex((r) => r?.name === ctx.file.region);
  const local = i >= 0 ? ctx.file.regions?.[i] : undefined;
  if (!local || local.storage !== undefined || (local.lookup ?? 'storage') === 'storage') return [];
  return [
    problem(
      ['regions', i, 'storage'],
      "tag freshness reads this region's own tag history from its storage: give its `storage` (with `lookup: registry` too), or turn freshness off",
    ),
  ];
};
