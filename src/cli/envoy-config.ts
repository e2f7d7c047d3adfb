/**
 * `geosync envoy-config --config FILE [--format yaml|json] [--output FILE]` prints (or writes) the
 * Envoy bootstrap for the configured region (a pod's init container writes it where Envoy reads
 * it, so the two configurations cannot drift: deploy/helm/geosync); `geosync envoy-config --check FILE` validates any bootstrap with the real
 * Envoy (`envoy --mode validate`), found as the tests find it, and exits 2 when there is none
 * (envoy/README.md, "Generating and checking").
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { processEnv } from '../config/env';
import { envoyVersion, findEnvoy, validateWithEnvoy } from '../envoy/binary';
import { buildBootstrap } from '../envoy/bootstrap';
import { NEWEST_TESTED_ENVOY, releaseConcern } from '../envoy/releases';
import { envoyPatchPolicy, parseGatewayTarget, type GatewayTarget } from '../envoy/gateway-patch';
import { quotedYaml, renderBootstrap, type BootstrapFormat } from '../envoy/render';
import { loadOrReport } from './config-file';
import { EXIT, parseFlags, type CliIo, type Command } from './command';

const USAGE =
  'geosync envoy-config --config FILE [--format yaml|json] [--output FILE]\n' +
  '       geosync envoy-config --config FILE --envoy-gateway NAMESPACE/GATEWAY/LISTENER --httproute [NAMESPACE/]NAME\n' +
  '       geosync envoy-config --check BOOTSTRAP_FILE';

/** The checkout or installed package (dist/cli/ or src/cli/ → two levels up), for `.envoy/`. */
const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

export const envoyConfigCommand: Command = {
  name: 'envoy-config',
  usage: 'geosync envoy-config --config FILE | --check FILE',
  summary: "print this region's Envoy bootstrap, or validate one with Envoy",
  async run(args, io) {
    const { flags, positional, errors } = parseFlags(args, [
      'config',
      'format',
      'check',
      'output',
      'envoy-gateway',
      'httproute',
    ]);
    const format = flags.get('format') ?? 'yaml';
    if (format !== 'yaml' && format !== 'json') errors.push(`--format must be yaml or json, got "${format}"`);
    if (positional.length > 0) errors.push(`unexpected argument "${positional[0]}"`);
    if (flags.has('check') === flags.has('config'))
      errors.push('give exactly one of --config FILE or --check FILE');
    if (flags.has('output') && flags.has('check')) errors.push('--output goes with --config, not --check');
    const gateway = flags.get('envoy-gateway');
    const route = flags.get('httproute');
    if ((gateway === undefined) !== (route === undefined))
      errors.push('--envoy-gateway and --httproute go together');
    const target =
      gateway !== undefined && route !== undefined ? parseGatewayTarget(gateway, route) : undefined;
    if (typeof target === 'string') errors.push(target);
    if (errors.length > 0) {
      io.stderr(`${errors.join('\n')}\nusage: ${USAGE}\n`);
      return EXIT.usage;
    }
    const check = flags.get('check');
    if (check !== undefined) return checkBootstrapFile(check, io, findEnvoy(processEnv(), PACKAGE_ROOT));
    if (target !== undefined && typeof target !== 'string')
      return generatePatchPolicy(flags.get('config') as string, format as BootstrapFormat, target, io);
    return generate(flags.get('config') as string, format as BootstrapFormat, io, flags.get('output'));
  },
};

/**
 * No self-check here: every bootstrap the generator's options can produce is run through
 * `envoy --mode validate` on the pinned releases by test/integration/envoy/validate.test.ts, and
 * the machine that generates one need not have Envoy.
 */
async function generate(
  file: string,
  format: BootstrapFormat,
  io: CliIo,
  output: string | undefined,
): Promise<number> {
  // The bootstrap holds no secret: generating it must not need geosync's (notifications).
  const loaded = await loadOrReport(file, io, { secrets: false });
  if ('exit' in loaded) return loaded.exit;
  const text = renderBootstrap(buildBootstrap(loaded.config), format, {
    region: loaded.config.region,
    source: file,
  });
  if (output === undefined) {
    io.stdout(text);
    return EXIT.ok;
  }
  // Written whole or not at all: Envoy must never start on half a file.
  const partial = `${output}.partial`;
  try {
    await writeFile(partial, text);
    await rename(partial, output);
  } catch (err) {
    io.stderr(`cannot write ${output}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
    return EXIT.usage;
  }
  io.stderr(`wrote the Envoy bootstrap of region ${loaded.config.region} to ${output}\n`);
  return EXIT.ok;
}

/**
 * The EnvoyPatchPolicy that puts geosync into an Envoy Gateway's generated configuration
 * (envoy/gateway-patch.ts), as a Kubernetes object to apply beside the Gateway and HTTPRoute.
 */
async function generatePatchPolicy(
  file: string,
  format: BootstrapFormat,
  target: GatewayTarget,
  io: CliIo,
): Promise<number> {
  const loaded = await loadOrReport(file, io, { secrets: false });
  if ('exit' in loaded) return loaded.exit;
  const policy = envoyPatchPolicy(loaded.config, target);
  if (format === 'json') {
    io.stdout(`${JSON.stringify(policy, null, 2)}\n`);
    return EXIT.ok;
  }
  const header = [
    `# geosync region "${loaded.config.region}" in Envoy Gateway: Gateway ${target.namespace}/${target.gateway}, listener ${target.listener}, HTTPRoute ${target.httpRoute.namespace}/${target.httpRoute.name}.`,
    `# Generated by: geosync envoy-config --config ${file} --envoy-gateway ${target.namespace}/${target.gateway}/${target.listener} --httproute ${target.httpRoute.namespace}/${target.httpRoute.name}`,
    '# Needs extensionApis.enableEnvoyPatchPolicy in the EnvoyGateway configuration (deploy/kubernetes/README.md, "Envoy Gateway").',
  ];
  io.stdout(`${header.join('\n')}\n${quotedYaml(policy)}`);
  return EXIT.ok;
}

/** `--check FILE` with the Envoy found (undefined: none on this machine). */
export async function checkBootstrapFile(
  file: string,
  io: CliIo,
  binary: string | undefined,
): Promise<number> {
  try {
    await readFile(file);
  } catch (err) {
    io.stderr(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
    return EXIT.usage;
  }
  if (!binary) {
    io.stderr(
      `${file}: not checked: no Envoy binary (set ENVOY_BIN, put envoy on PATH, or run ` +
        'scripts/install-envoy.sh in a checkout). With a container engine, Envoy checks it so:\n' +
        `  docker run --rm -v "${path.resolve(file)}:/envoy.yaml:ro" envoyproxy/envoy:v${NEWEST_TESTED_ENVOY} --mode validate -c /envoy.yaml\n`,
    );
    return EXIT.usage;
  }
  const version = (await envoyVersion(binary)) ?? 'unknown version';
  const run = await validateWithEnvoy(binary, file);
  if (run.code !== 0) {
    io.stderr(`${file}: envoy ${version} --mode validate failed (${binary}):\n${run.output}`);
    return EXIT.usage;
  }
  const concern = version === 'unknown version' ? undefined : releaseConcern(version);
  const note = concern === undefined ? '' : ` (note: ${concern})`;
  io.stdout(`${file}: ok by envoy ${version} --mode validate (${binary})${note}\n`);
  return EXIT.ok;
}
