/**
 * Defaults for code that runs without a configuration file (src/locate/probe-locator.ts): the
 * declared defaults, read off the schema so they cannot differ from a file's.
 */
import { configFile } from './schema';

export const DEFAULTS = {
  lookupTimeoutMs: configFile.shape.lookupTimeoutMs.parse(undefined),
  lookupTimeoutMaxMs: configFile.shape.lookupTimeoutMaxMs.parse(undefined),
  locate: configFile.shape.locate.parse(undefined),
} as const;
