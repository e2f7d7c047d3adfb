/**
 * `geosync envoy-config --config FILE [--format yaml|json]` prints the Envoy bootstrap for the
 * configured region; `geosync envoy-config --check FILE` validates any bootstrap and says which
 * checks ran: Envoy's API protos always, and `envoy --mode validate` when a binary is available
 * (ENVOY_BIN, or envoy on PATH) (envoy/README.md).
 */
import { readFile } from 'node:fs/promises';
import { processEnv } from '../config/env';
import { locateEnvoy, envoyVersion, validateWithEnvoy } from '../envoy/binary';
import { buildBootstrap, OLDEST_SUPPORTED_ENVOY } from '../envoy/bootstrap';
import { renderBootstrap, type BootstrapFormat } from '../envoy/render';
import { formatBootstrapProblems, validateBootstrap, validateBootstrapText } from '../envoy/validate';
import { loadOrReport } from './config-file';
import { EXIT, parseFlags, type CliIo, type Command } from './command';

const USAGE =
  'geosync envoy-config --config FILE [--format yaml|json]\n' +
  '       geosync envoy-config --check BOOTSTRAP_FILE';

export const envoyConfigCommand: Command = {
  name: 'envoy-config',
  usage: 'geosync envoy-config --config FILE | --check FILE',
  summary: "print this region's Envoy bootstrap, or validate one",
  async run(args, io) {
    const { flags, positional, errors } = parseFlags(args, ['config', 'format', 'check']);
    const format = flags.get('format') ?? 'yaml';
    if (format !== 'yaml' && format !== 'json') errors.push(`--format must be yaml or json, got "${format}"`);
    if (positional.length > 0) errors.push(`unexpected argument "${positional[0]}"`);
    if (flags.has('check') === flags.has('config'))
      errors.push('give exactly one of --config FILE or --check FILE');
    if (errors.length > 0) {
      io.stderr(`${errors.join('\n')}\nusage: ${USAGE}\n`);
      return EXIT.usage;
    }
    const check = flags.get('check');
    if (check !== undefined) return checkFile(check, io);
    return generate(flags.get('config') as string, format as BootstrapFormat, io);
  },
};

async function generate(file: string, format: BootstrapFormat, io: CliIo): Promise<number> {
  // The bootstrap holds no secret: generating it must not need geosync's (notifications).
  const loaded = await loadOrReport(file, io, { secrets: false });
  if ('exit' in loaded) return loaded.exit;
  const bootstrap = buildBootstrap(loaded.config);
  // Never hand an operator a bootstrap Envoy would reject: a failure here is a geosync bug.
  const checked = validateBootstrap(bootstrap);
  if (!checked.ok) {
    io.stderr(
      `internal error: the generated bootstrap fails validation:\n${formatBootstrapProblems(checked.problems)}\n`,
    );
    return EXIT.failure;
  }
  io.stdout(renderBootstrap(bootstrap, format, { region: loaded.config.region, source: file }));
  return EXIT.ok;
}

async function checkFile(file: string, io: CliIo): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    io.stderr(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
    return EXIT.usage;
  }
  const result = validateBootstrapText(text);
  if (result.warnings.length > 0) {
    io.stderr(
      `${file}: ${result.warnings.length} warning(s):\n${formatBootstrapProblems(result.warnings)}\n`,
    );
  }
  if (!result.ok) {
    io.stderr(
      `${file}: ${result.problems.length} problem(s) against Envoy's API protos:\n${formatBootstrapProblems(result.problems)}\n`,
    );
    return EXIT.usage;
  }
  io.stdout(`${file}: ok against Envoy's API protos (envoy.config.bootstrap.v3.Bootstrap)\n`);
  return checkWithBinary(file, io);
}

/** The second, complete check, when this machine has an Envoy. */
async function checkWithBinary(file: string, io: CliIo): Promise<number> {
  const binary = locateEnvoy(processEnv());
  if (!binary) {
    io.stdout(
      `${file}: envoy --mode validate not run: no Envoy binary (set ENVOY_BIN or put envoy on PATH)\n`,
    );
    return EXIT.ok;
  }
  const version = (await envoyVersion(binary)) ?? 'unknown version';
  const run = await validateWithEnvoy(binary, file);
  if (run.code !== 0) {
    io.stderr(`${file}: envoy ${version} --mode validate failed (${binary}):\n${run.output}`);
    return EXIT.usage;
  }
  const old = olderThan(version, OLDEST_SUPPORTED_ENVOY)
    ? ` (note: geosync's bootstrap is made for Envoy ${OLDEST_SUPPORTED_ENVOY} or newer)`
    : '';
  io.stdout(`${file}: ok by envoy ${version} --mode validate (${binary})${old}\n`);
  return EXIT.ok;
}

function olderThan(version: string, minimum: string): boolean {
  const [a1 = 0, a2 = 0] = version.split('.').map(Number);
  const [b1 = 0, b2 = 0] = minimum.split('.').map(Number);
  return Number.isFinite(a1) && (a1 < b1 || (a1 === b1 && a2 < b2));
}
