/** Loading `--config FILE` for a command: the config, or every problem printed and exit code 2. */
import { formatProblems, loadConfigFile } from '../config/load';
import type { GeosyncConfig, LoadOptions } from '../config/types';
import { EXIT, parseFlags, type CliIo } from './command';

export type Loaded = { readonly config: GeosyncConfig; readonly file: string } | { readonly exit: number };

/** Loads and validates `file`; on problems prints them all (with key paths) and returns exit 2. */
export async function loadOrReport(file: string, io: CliIo, opts: LoadOptions = {}): Promise<Loaded> {
  const result = await loadConfigFile(file, undefined, opts);
  if (!result.ok) {
    io.stderr(`${file}: ${result.problems.length} problem(s):\n${formatProblems(result.problems)}\n`);
    return { exit: EXIT.usage };
  }
  return { config: result.config, file };
}

/** For commands whose only flag is `--config FILE`. */
export async function configFromArgs(args: readonly string[], io: CliIo, usage: string): Promise<Loaded> {
  const { flags, errors } = parseFlags(args, ['config']);
  const file = flags.get('config');
  if (errors.length > 0 || !file) {
    io.stderr(`${[...errors, ...(file ? [] : ['--config FILE is required'])].join('\n')}\nusage: ${usage}\n`);
    return { exit: EXIT.usage };
  }
  return loadOrReport(file, io);
}
