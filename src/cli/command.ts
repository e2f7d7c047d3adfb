/** What every CLI command gets, so commands are testable without a real process. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Resolves when the process is asked to stop (SIGTERM/SIGINT/SIGHUP); tests resolve it themselves. */
  readonly terminated: Promise<string>;
}

export interface Command {
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** Exit codes: 0 ok, 1 runtime failure, 2 bad usage or invalid configuration. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** Parses `--name value` and `--name=value` flags; unknown flags are an error. */
export function parseFlags(
  args: readonly string[],
  known: readonly string[],
  booleans: readonly string[] = [],
): { flags: Map<string, string>; positional: string[]; errors: string[] } {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  const errors: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    if (!known.includes(name) && !booleans.includes(name)) {
      errors.push(`unknown flag --${name}`);
      continue;
    }
    if (booleans.includes(name)) {
      flags.set(name, eq >= 0 ? arg.slice(eq + 1) : 'true');
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined || value === '') errors.push(`--${name} needs a value`);
    else flags.set(name, value);
  }
  return { flags, positional, errors };
}
