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
