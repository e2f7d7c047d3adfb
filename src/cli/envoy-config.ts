/**
 * `geosync envoy-config --config FILE [--envoy-version 1.3x] [--fallback custom-response] [--format yaml|json]`
 * prints the Envoy bootstrap for the configured region; `geosync envoy-config --check FILE`
 * validates any bootstrap against Envoy's API and lists every problem (envoy/README.md).
 */
import { readFile } from 'node:fs/promises';
import { loadOrReport } from './config-file';
import { buildBootstrap, type EnvoyMode } from '../envoy/bootstrap';
import { renderBootstrap, type BootstrapFormat } from '../envoy/render';
import { formatBootstrapProblems, validateBootstrap, validateBootstrapText } from '../envoy/validate';
import { EXIT, parseFlags, type CliIo, type Command } from './command';

const USAGE =
  'geosync envoy-config --config FILE [--envoy-version 1.3x] [--fallback custom-response] [--format yaml|json]\n' +
  '       geosync envoy-config --check BOOTSTRAP_FILE';

export const envoyConfigCommand: Command = {
  name: 'envoy-config',
  usage: 'geosync envoy-config --config FILE | --check FILE',
  summary: "print this region's Envoy bootstrap, or validate one",
  async run(args, io) {
    const { flags, positional, errors } = parseFlags(args, [
      'config',
      'envoy-version',
      'fallback',
      'format',
      'check',
    ]);
    const format = flags.get('format') ?? 'yaml';
    const fallback = flags.get('fallback');
    if (format !== 'yaml' && format !== 'json') errors.push(`--format must be yaml or json, got "${format}"`);
    if (fallback !== undefined && fallback !== 'custom-response') {
      errors.push(`--fallback must be custom-response, got "${fallback}"`);
    }
    if (positional.length > 0) errors.push(`unexpected argument "${positional[0]}"`);
    if (flags.has('check') === flags.has('config'))
      errors.push('give exactly one of --config FILE or --check FILE');
    if (errors.length > 0) {
      io.stderr(`${errors.join('\n')}\nusage: ${USAGE}\n`);
      return EXIT.usage;
    }
    const check = flags.get('check');
    if (check !== undefined) return checkFile(check, io);
    const mode: EnvoyMode = fallback ? 'custom-response' : 'ext_proc';
    return generate(
      flags.get('config') as string,
      flags.get('envoy-version'),
      mode,
      format as BootstrapFormat,
      io,
    );
  },
};

async function generate(
  file: string,
  version: string | undefined,
  mode: EnvoyMode,
  format: BootstrapFormat,
  io: CliIo,
): Promise<number> {
  const loaded = await loadOrReport(file, io);
  if ('exit' in loaded) return loaded.exit;
  const built = buildBootstrap(loaded.config, { ...(version !== undefined ? { version } : {}), mode });
  if (!built.ok) {
    io.stderr(`${built.problems.join('\n')}\n`);
    return EXIT.usage;
  }
  // Never hand an operator a bootstrap Envoy would reject: a failure here is a geosync bug.
  const checked = validateBootstrap(built.bootstrap);
  if (!checked.ok) {
    io.stderr(
      `internal error: the generated bootstrap fails validation:\n${formatBootstrapProblems(checked.problems)}\n`,
    );
    return EXIT.failure;
  }
  const ctx = { region: loaded.config.region, envoyVersion: built.version, mode, source: file };
  io.stdout(renderBootstrap(built.bootstrap, format, ctx));
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
      `${file}: ${result.problems.length} problem(s):\n${formatBootstrapProblems(result.problems)}\n`,
    );
    return EXIT.usage;
  }
  io.stdout(`${file}: ok (valid envoy.config.bootstrap.v3.Bootstrap)\n`);
  return EXIT.ok;
}
