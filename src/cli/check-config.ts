/** `geosync check-config --config FILE`: validates and prints every problem, starts nothing. */
import { EXIT, type Command } from './command';
import { configFromArgs } from './config-file';

export const checkConfigCommand: Command = {
  name: 'check-config',
  usage: 'geosync check-config --config FILE',
  summary: 'validate a configuration file and list every problem',
  async run(args, io) {
    const loaded = await configFromArgs(args, io, this.usage);
    if ('exit' in loaded) return loaded.exit;
    const { config: c, file } = loaded;
    io.stdout(
      `${file}: ok (region ${c.region}; siblings in preference order: ${c.preference.join(', ') || 'none'})\n`,
    );
    return EXIT.ok;
  },
};
