/**
 * `geosync config-schema`: prints the JSON Schema of the configuration file, for editors
 * (`# yaml-language-server: $schema=…`) and CI checks. deploy/config/geosync.schema.json is a copy.
 */
import { configJsonSchemaText } from '../config/json-schema';
import { EXIT, parseFlags, type Command } from './command';

export const configSchemaCommand: Command = {
  name: 'config-schema',
  usage: 'geosync config-schema',
  summary: 'print the JSON Schema of the configuration file',
  async run(args, io) {
    const { positional, errors } = parseFlags(args, []);
    if (positional.length > 0) errors.push(`unexpected argument "${positional[0]}"`);
    if (errors.length > 0) {
      io.stderr(`${errors.join('\n')}\nusage: ${this.usage}\n`);
      return EXIT.usage;
    }
    io.stdout(configJsonSchemaText());
    return EXIT.ok;
  },
};
