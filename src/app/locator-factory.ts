/** Builds the Locator that `geosync serve` uses from the validated configuration. */
import type { GeosyncConfig } from '../config/schema';
import type { Locator } from '../locate/locator';
import { ProbeLocator } from '../locate/probe-locator';
import { probeFor } from '../storage/factory';

export function buildLocator(config: GeosyncConfig): Locator {
  const byName = new Map(config.regions.map((r) => [r.name, r]));
  const siblings = config.preference.map((name) => {
    const region = byName.get(name);
    if (!region) throw new Error(`preference names unknown region ${name}`);
    return { region: name, probe: probeFor(region) };
  });
  return new ProbeLocator(siblings, { probeBlobData: config.locate.probeBlobData });
}
