/** `geosync check-config --config FILE`: validates and prints every problem, starts nothing. */
import { formatProblems, loadConfigFile } from '../config/load';
import { EXIT, parseFlags, type Command } from './command';

export const checkConfigCommand: Command = {
  name: 'check-config',
  usage: 'geosync check-config --config FILE',
  summary: 'validate a configuration file and list every problem',
  async run(args, io) {
    const { flags, errors } = parseFlags(args, ['config']);
    const file = flags.get('config');
    if (errors.length > 0 || !file) {
      io.stderr(
        `${[...errors, ...(file ? [] : ['--config FILE is required'])].join('\n')}\nusage: ${this.usage}\n`,
      );
      return EXIT.usage;
    }
    const result = await loadConfigFile(file);
    if (!result.ok) {
      io.stderr(`${file}: ${result.problems.length} problem(s):\n${formatProblems(result.problems)}\n`);
      return EXIT.usage;
    }
    const c = result.config;
    io.stdout(
      `${file}: ok (region ${c.region}; siblings in preference order: ${c.preference.join(', ') || 'none'})\n`,
    );
    return EXIT.ok;
  },
};
