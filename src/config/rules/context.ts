/**
 * The rules between sections, which see the whole file: they run last, on every part of it that
 * parsed (refine.ts), with the environment the secrets come from.
 */
import type { Env } from '../env';
import type { Issue, Parsed } from '../refine';
import type { ConfigFile } from '../schema';

export interface RuleContext {
  /** Every part of the file that parsed (all of it when the file is valid). */
  readonly file: Parsed<ConfigFile>;
  /** The file as parsed so far, failed parts as written: names that must be compared even when invalid. */
  readonly written: Parsed<ConfigFile>;
  readonly env: Env;
  /** False for commands that never use secrets (`envoy-config`): they need not be set. */
  readonly secrets: boolean;
}

export type Rule = (ctx: RuleContext) => Issue[];

type Region = NonNullable<NonNullable<Parsed<ConfigFile>['regions']>[number]>;

/** The regions whose name parsed, with their index in `regions`. */
export function namedRegions({ file }: RuleContext): { index: number; region: Region & { name: string } }[] {
  return (file.regions ?? []).flatMap((region, index) =>
    region?.name !== undefined ? [{ index, region: region as Region & { name: string } }] : [],
  );
}
