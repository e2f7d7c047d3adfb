/** What every cross-field rule is given: the salvaged file, the raw input, and the environment. */
import type { Env } from '../env';
import type { ConfigFile } from '../schema';
import type { ConfigProblem } from '../problems';
import type { Salvaged } from '../salvage';

export interface RuleContext {
  /** Every part of the file that parsed on its own (all of it when the file is valid). */
  readonly file: Salvaged<ConfigFile>;
  /** The file as written (after environment overrides), for names that must be compared even when invalid. */
  readonly raw: Record<string, unknown>;
  readonly env: Env;
  /** False for commands that never use secrets (`envoy-config`): they need not be set. */
  readonly secrets: boolean;
}

export type Rule = (ctx: RuleContext) => ConfigProblem[];

type Region = NonNullable<NonNullable<Salvaged<ConfigFile>['regions']>[number]>;

/** The regions whose name parsed, with their index in `regions`. */
export function namedRegions(ctx: RuleContext): { index: number; region: Region & { name: string } }[] {
  return (ctx.file.regions ?? []).flatMap((region, index) =>
    region?.name !== undefined ? [{ index, region: region as Region & { name: string } }] : [],
  );
}
