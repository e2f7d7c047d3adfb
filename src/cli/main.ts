/** `geosync` command line: dispatches to one command and returns its exit code. */
import { checkConfigCommand } from './check-config';
import { EXIT, type CliIo, type Command } from './command';
import { configSchemaCommand } from './config-schema';
import { envoyConfigCommand } from './envoy-config';
import { serveCommand } from './serve';
import { stalenessCommand } from './staleness';
import { VERSION } from '../version';

export const COMMANDS: readonly Command[] = [
  serveCommand,
  checkConfigCommand,
  configSchemaCommand,
  envoyConfigCommand,
  stalenessCommand,
];

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === 'version') {
    io.stdout(`geosync ${VERSION}\n`);
    return EXIT.ok;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr(`unknown command "${name}"\n${usage()}`);
    return EXIT.usage;
  }
  return command.run(rest, io);
}

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.usage.length));
  return (
    'usage:\n' +
    COMMANDS.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`).join('\n') +
    `\n  ${'geosync --version'.padEnd(width)}  print the version\n`
  );
}
