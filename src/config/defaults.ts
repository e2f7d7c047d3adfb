/** Defaults for code that runs without a configuration file (the benchmark): the declared ones. */
import { configFile } from './schema';

export const DEFAULTS = {
  locate: configFile.shape.locate.parse(undefined),
  lookupTimeoutMs: configFile.shape.lookupTimeoutMs.parse(undefined),
} as const;
